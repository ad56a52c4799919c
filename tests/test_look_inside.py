"""The recipe's claims and the look inside the network, on the notebook's own cells (run by tag): the sanity
check before training, the learning-rate schedule, the augmentation, and the functions of section 13 on the
tests' one-epoch model."""

from __future__ import annotations

import contextlib
import io
import math
import re

import cv2
import numpy as np
import pytest
from notebook_helpers import run_tagged_cells


def test_the_untrained_loss_is_near_ln_10(notebook_functions: dict) -> None:
    """The sanity-check cell prints a loss within 0.1 of ln 10, and says that outputs of exactly 1/10 give
    ln 10 whatever the (smoothed) targets."""
    namespace = dict(notebook_functions)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run_tagged_cells("preprocess", "schedule", "sanity-check", namespace=namespace)
    text = printed.getvalue()
    loss = float(re.search(r"its loss on \d+ images: ([\d.]+)", text).group(1))
    stated = float(re.search(r"outputs of exactly 1/10: ([\d.]+)", text).group(1))
    assert stated == pytest.approx(math.log(10), abs=0.005)
    assert abs(loss - math.log(10)) < 0.1 and abs(loss - stated) < 0.1
    low, high = map(float, re.search(r"probabilities: ([\d.]+) to ([\d.]+)", text).groups())
    assert 0.05 < low <= 0.1 <= high < 0.15


def test_the_learning_rate_warms_up_then_falls_along_a_cosine(notebook_functions: dict) -> None:
    """0 at the start, 2e-3 after one epoch (a quarter of a run shorter than four epochs), half way down at
    the middle of the decay, 0 at the end; label smoothing 0.1."""
    for epochs, warmup_epochs in ((25, 1), (3, 0.75)):
        namespace = dict(notebook_functions, EPOCHS=epochs, TRAIN_SAMPLES=None)
        run_tagged_cells("preprocess", "schedule", namespace=namespace)
        rate, per_epoch = namespace["learning_rate"], namespace["steps_per_epoch"]
        assert per_epoch == 422  # 54,000 images in batches of 128
        total, peak = per_epoch * epochs, round(per_epoch * warmup_epochs)
        assert float(rate(0)) == 0.0
        assert float(rate(peak // 2)) == pytest.approx(1e-3, rel=0.02)  # linear warm-up
        assert float(rate(peak)) == pytest.approx(2e-3, rel=1e-3)
        assert float(rate((peak + total) // 2)) == pytest.approx(1e-3, rel=0.02)  # cosine: half way down
        assert float(rate(total)) == pytest.approx(0.0, abs=1e-9)
        assert namespace["LABEL_SMOOTHING"] == 0.1


def centre(images: np.ndarray) -> np.ndarray:
    rows, cols = np.indices(images.shape[1:3])
    mass = images.sum(axis=(1, 2))
    return np.stack([(images * rows).sum(axis=(1, 2)) / mass, (images * cols).sum(axis=(1, 2)) / mass], 1)


def augmented(notebook_functions: dict, image: np.ndarray, copies: int = 512) -> np.ndarray:
    notebook_functions["keras"].utils.set_random_seed(0)  # the same random draws on every run of the test
    batches = notebook_functions["train_dataset"](np.repeat(image[np.newaxis], copies, 0), np.zeros(copies))
    return np.concatenate([np.asarray(batch)[..., 0] for batch, _ in batches])


def test_augmentation_shifts_turns_and_zooms_by_as_much_as_it_says(notebook_functions: dict) -> None:
    """Shifts up to ±3 pixels (10% of 28) each way, turns up to ±11°, zooms ±10%, black fill at the edges."""
    dot = np.zeros((28, 28, 1), np.float32)
    dot[12:16, 12:16] = 1.0  # a blob at the middle: turning and zooming leave its centre where it is
    shift = centre(augmented(notebook_functions, dot)) - 13.5
    # Up to 10% of 28 = 2.8 pixels each way, so at most 2.8·√2 from the middle; the turn after it keeps that
    # distance, and the zoom can make it 10% longer.
    distance = np.linalg.norm(shift, axis=1)
    assert 3.0 < distance.max() <= 2.8 * np.sqrt(2) * 1.1 + 0.1 and np.abs(shift).max() > 2.5

    bar = np.zeros((28, 28, 1), np.float32)
    bar[13:15, 4:24] = 1.0  # a horizontal bar through the middle
    angles = []
    for image in augmented(notebook_functions, bar):
        rows, cols = np.nonzero(image > 0.5)
        covariance = np.cov(cols - cols.mean(), rows - rows.mean())
        angles.append(np.degrees(0.5 * np.arctan2(2 * covariance[0, 1], covariance[0, 0] - covariance[1, 1])))
    assert 8.0 < np.abs(angles).max() <= 10.8 + 1.0  # 0.03 of a turn = 10.8°

    disc = cv2.circle(np.zeros((28, 28), np.float32), (14, 14), 5, 1.0, -1)[..., np.newaxis]
    scale = np.sqrt(augmented(notebook_functions, disc).sum(axis=(1, 2)) / disc.sum())  # from the area
    assert 0.9 - 0.02 <= scale.min() < 0.95 and 1.05 < scale.max() <= 1.1 + 0.02

    # What moves in at the edges is black, not a reflection, for each of the three layers: on a white square,
    # a shift blackens one side, a turn the corners, and zooming out all four sides at once.
    dark = augmented(notebook_functions, np.ones((28, 28, 1), np.float32)) < 0.5
    one_side = dark[:, 0, 4:24].all(axis=1) & ~dark[:, 27, 14]  # the top row, not the bottom one
    sides = dark[:, 0, 14] & dark[:, 27, 14] & dark[:, 14, 0] & dark[:, 14, 27]
    corners = dark[:, 0, 0] & dark[:, 0, 27] & dark[:, 27, 0] & dark[:, 27, 27]
    assert one_side.mean() > 0.05 and sides.mean() > 0.05 and corners.sum() > sides.sum() + 20


def test_each_augmentation_layer_fills_with_black(notebook_functions: dict, monkeypatch) -> None:
    """The layers that train_dataset builds, as it builds them: each fills what it uncovers with a constant
    0 (black), and their factors are the ones the text gives."""
    real, made = notebook_functions["layers"], []

    def recording(name):
        def make(*args, **kwargs):
            layer = getattr(real, name)(*args, **kwargs)
            made.append(layer)
            return layer

        return make

    spy = type("Layers", (), {n: staticmethod(recording(n)) for n in dir(real) if n.startswith("Random")})
    monkeypatch.setitem(notebook_functions, "layers", spy)
    augmented(notebook_functions, np.zeros((28, 28, 1), np.float32), copies=8)
    config = {type(layer).__name__: layer.get_config() for layer in made}
    assert list(config) == ["RandomTranslation", "RandomRotation", "RandomZoom"]
    assert {c["fill_mode"] for c in config.values()} == {"constant"}
    assert {c.get("fill_value", 0.0) for c in config.values()} == {0.0}
    translation, rotation, zoom = config.values()

    def most(factor) -> float:  # Keras keeps a factor as f or as the range (-f, f)
        return float(np.abs(np.ravel(factor)).max())

    assert [most(translation["height_factor"]), most(translation["width_factor"])] == [0.1, 0.1]
    assert most(rotation["factor"]) == 0.03 and most(zoom["height_factor"]) == 0.1
    assert zoom["width_factor"] is None  # the same zoom both ways


def test_the_model_itself_never_augments(notebook_functions: dict) -> None:
    """Augmentation lives in train_dataset only: the model has no random layers, so validation, test and
    prediction see the images as they are, and predicting twice gives the same answer."""
    model = notebook_functions["build_model"]()
    assert not [layer for layer in model.layers if type(layer).__name__.startswith("Random")]
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.fixture(scope="module")
def inside(trained_notebook: dict) -> dict:
    return run_tagged_cells("look-inside", namespace=dict(trained_notebook))


def test_first_layer_filters_are_the_first_convolution_weights(inside: dict) -> None:
    filters = inside["first_layer_filters"](inside["model"])
    assert filters.shape == (5, 5, 1, 32)
    kernel = inside["model"].layers[0].kernel
    np.testing.assert_array_equal(filters, inside["keras"].ops.convert_to_numpy(kernel))


def test_feature_maps_have_each_blocks_size(inside: dict) -> None:
    maps = inside["feature_maps"](inside["model"], inside["x_val"][0])
    assert [m.shape for m in maps] == [(24, 24, 32), (10, 10, 64), (8, 8, 64)]
    assert all(m.min() >= 0 for m in maps)  # after a ReLU
    assert not np.array_equal(maps[0], inside["feature_maps"](inside["model"], inside["x_val"][1])[0])


def test_the_map_marks_the_models_own_mistakes(inside: dict) -> None:
    model, x_val, labels = inside["model"], inside["x_val"][:2000], inside["val_labels"][:2000]
    features, predicted = inside["learned_features"](model, x_val)
    assert features.shape == (2000, 128) and features.min() >= 0
    np.testing.assert_array_equal(predicted, model.predict(x_val, verbose=0).argmax(axis=1))
    assert 0 < np.sum(predicted != labels) < 400  # the one-epoch model: some mistakes, not a broken model
    points = inside["project_2d"](features)
    assert points.shape == (2000, 2)
    share = inside["nearest_centre_share"]
    assert share(points, labels) > share(inside["project_2d"](x_val.reshape(2000, -1)), labels)
    assert share(np.eye(10)[labels], labels) == 1.0  # points at their own centre: all of them
