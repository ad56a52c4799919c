"""The recipe's claims and the look inside the network, on the notebook's own cells (run by tag):
the dense baseline, the augmentation layers, the sanity check, the learning-rate schedule, the
training call, the loss floor, and the functions of sections 19 and 20 on the tests' model."""

from __future__ import annotations

import contextlib
import io
import math
import re

import cv2
import numpy as np
import pytest

from notebooks.notebook_tools import TRAINING_TAGS, run_tagged_cells
from tests.helpers import RECIPE_PARAMS, centre_of_mass


def quietly(*tags: str, namespace: dict, edits=()) -> str:
    """Run the cells, and return what they printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run_tagged_cells(*tags, namespace=namespace, edits=edits)
    return printed.getvalue()


def test_the_dense_baseline_is_trained_and_scored_on_validation_images(
    notebook_functions: dict,
) -> None:
    namespace = dict(notebook_functions)
    text = quietly("preprocess", "baseline", namespace=namespace)
    baseline = namespace["baseline"]
    kinds = [type(layer).__name__ for layer in baseline.layers]
    assert (
        kinds == ["Flatten", "Dense", "ReLU", "Dense"]
        and baseline.count_params() == 784 * 128 + 128 + 1290
    )
    score = float(re.search(r"reads ([\d.]+)% of the validation images", text).group(1)) / 100
    _, expected = baseline.evaluate(namespace["x_val"], namespace["y_val"], verbose=0)
    assert score == pytest.approx(expected, abs=5e-5) and score > 0.85  # 6,000 images: about 93%


def test_the_untrained_loss_is_near_ln_10(notebook_functions: dict) -> None:
    """The sanity-check cell prints a loss within 0.1 of ln 10, and says that outputs of exactly
    1/10 give ln 10 whatever the (smoothed) targets."""
    namespace = dict(notebook_functions)
    text = quietly("preprocess", "schedule", "sanity-check", namespace=namespace)
    loss = float(re.search(r"its loss on \d+ images: ([\d.]+)", text).group(1))
    stated = float(re.search(r"outputs of exactly 1/10: ([\d.]+)", text).group(1))
    assert stated == pytest.approx(math.log(10), abs=0.005)
    assert abs(loss - math.log(10)) < 0.1 and abs(loss - stated) < 0.1
    low, high = map(float, re.search(r"probabilities: ([\d.]+) to ([\d.]+)", text).groups())
    assert 0.05 < low <= 0.1 <= high < 0.15


def test_the_learning_rate_warms_up_then_falls_along_a_cosine(notebook_functions: dict) -> None:
    """0 at the start, 2e-3 after one epoch (a quarter of a run shorter than four epochs), half way
    down at the middle of the decay, 0 at the end."""
    for epochs, warmup_epochs in ((25, 1), (3, 0.75)):
        namespace = dict(notebook_functions, EPOCHS=epochs, TRAIN_SAMPLES=None)
        run_tagged_cells("preprocess", "schedule", namespace=namespace)
        rate, per_epoch = namespace["learning_rate"], namespace["steps_per_epoch"]
        assert per_epoch == 422  # 54,000 images in batches of 128
        total, peak = per_epoch * epochs, round(per_epoch * warmup_epochs)
        assert float(rate(0)) == 0.0
        assert float(rate(peak // 2)) == pytest.approx(1e-3, rel=0.02)  # linear warm-up
        assert float(rate(peak)) == pytest.approx(2e-3, rel=1e-3)
        assert float(rate((peak + total) // 2)) == pytest.approx(
            1e-3, rel=0.02
        )  # cosine: half way down
        assert float(rate(total)) == pytest.approx(0.0, abs=1e-9)


def augmented(notebook_functions: dict, image: np.ndarray, copies: int = 512) -> np.ndarray:
    """``copies`` augmentations of ``image`` by the notebook's layers, as the model makes them in
    training."""
    keras = notebook_functions["keras"]
    keras.utils.set_random_seed(0)  # the same random draws on every run of the test
    augment = keras.Sequential(notebook_functions["augmentation_layers"]())
    batch = np.repeat(image[np.newaxis], copies, 0)
    return keras.ops.convert_to_numpy(augment(batch, training=True))[..., 0]


def test_augmentation_shifts_turns_and_zooms_by_as_much_as_it_says(
    notebook_functions: dict,
) -> None:
    """Shifts up to ±3 pixels (10% of 28) each way, turns up to ±11°, zooms ±10%, black fill at the
    edges."""
    dot = np.zeros((28, 28, 1), np.float32)
    dot[12:16, 12:16] = (
        1.0  # a blob at the middle: turning and zooming leave its centre where it is
    )
    shift = centre_of_mass(augmented(notebook_functions, dot)) - 13.5
    # Up to 10% of 28 = 2.8 pixels each way, so at most 2.8·√2 from the middle; the turn after it
    # keeps that distance, and the zoom can make it 10% longer.
    distance = np.linalg.norm(shift, axis=1)
    assert 3.0 < distance.max() <= 2.8 * np.sqrt(2) * 1.1 + 0.1 and np.abs(shift).max() > 2.5

    bar = np.zeros((28, 28, 1), np.float32)
    bar[13:15, 4:24] = 1.0  # a horizontal bar through the middle
    angles = []
    for image in augmented(notebook_functions, bar):
        rows, cols = np.nonzero(image > 0.5)
        covariance = np.cov(cols - cols.mean(), rows - rows.mean())
        angles.append(
            np.degrees(0.5 * np.arctan2(2 * covariance[0, 1], covariance[0, 0] - covariance[1, 1]))
        )
    assert 8.0 < np.abs(angles).max() <= 10.8 + 1.0  # 0.03 of a turn = 10.8°

    disc = cv2.circle(np.zeros((28, 28), np.float32), (14, 14), 5, 1.0, -1)[..., np.newaxis]
    scale = np.sqrt(
        augmented(notebook_functions, disc).sum(axis=(1, 2)) / disc.sum()
    )  # from the area
    assert 0.9 - 0.02 <= scale.min() < 0.95 and 1.05 < scale.max() <= 1.1 + 0.02

    # What moves in at the edges is black, not a reflection, for each of the three layers: on a
    # white square, a shift blackens one side, a turn the corners, and zooming out all four sides at
    # once.
    dark = augmented(notebook_functions, np.ones((28, 28, 1), np.float32)) < 0.5
    one_side = dark[:, 0, 4:24].all(axis=1) & ~dark[:, 27, 14]  # the top row, not the bottom one
    sides = dark[:, 0, 14] & dark[:, 27, 14] & dark[:, 14, 0] & dark[:, 14, 27]
    corners = dark[:, 0, 0] & dark[:, 0, 27] & dark[:, 27, 0] & dark[:, 27, 27]
    assert one_side.mean() > 0.05 and sides.mean() > 0.05 and corners.sum() > sides.sum() + 20


def test_each_augmentation_layer_fills_with_black(notebook_functions: dict) -> None:
    """Each layer fills what it uncovers with a constant 0 (black), and their factors are the
    text's."""
    config = {
        type(layer).__name__: layer.get_config()
        for layer in notebook_functions["augmentation_layers"]()
    }
    assert list(config) == ["RandomTranslation", "RandomRotation", "RandomZoom"]
    assert {c["fill_mode"] for c in config.values()} == {"constant"}
    assert {c.get("fill_value", 0.0) for c in config.values()} == {0.0}
    translation, rotation, zoom = config.values()

    def most(factor) -> float:  # Keras keeps a factor as f or as the range (-f, f)
        return float(np.abs(np.ravel(factor)).max())

    assert [most(translation["height_factor"]), most(translation["width_factor"])] == [0.1, 0.1]
    assert most(rotation["factor"]) == 0.03 and most(zoom["height_factor"]) == 0.1
    assert zoom["width_factor"] is None  # the same zoom both ways


def test_the_model_augments_in_training_only(notebook_functions: dict) -> None:
    """The random layers come first in the model and change nothing when it predicts: validation,
    test and the learner's own digits are seen as they are, and predicting twice gives the same
    answer."""
    keras = notebook_functions["keras"]
    model = notebook_functions["build_model"]()
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[:3] == ["RandomTranslation", "RandomRotation", "RandomZoom"]
    assert not [kind for kind in kinds[3:] if kind.startswith("Random")]
    assert model.count_params() == RECIPE_PARAMS  # the random layers have no weights
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    first = model.layers[0]
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(first(x, training=False)), x)
    assert not np.array_equal(keras.ops.convert_to_numpy(first(x, training=True)), x)


def test_the_cnn_trains_on_the_arrays(
    notebook_functions: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The training cell calls fit on NumPy arrays: the first TRAIN_SAMPLES training images, in
    batches of BATCH_SIZE, validating on the images held out at the end of the training set."""
    keras, seen = notebook_functions["keras"], {}
    fit = keras.Model.fit

    def spy(model, *args, **kwargs):
        seen.update(kwargs, args=args)
        return fit(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    namespace = dict(notebook_functions, EPOCHS=1, TRAIN_SAMPLES=256)
    quietly("preprocess", *TRAINING_TAGS, namespace=namespace)
    (x, y), (x_val, y_val) = seen["args"], seen["validation_data"]
    images, labels = namespace["train_images"], namespace["train_labels"]
    held_out = round(len(images) * namespace["VALIDATION_SPLIT"])
    assert isinstance(x, np.ndarray) and isinstance(x_val, np.ndarray)
    assert (x.shape, x_val.shape) == ((256, 28, 28, 1), (held_out, 28, 28, 1))
    # The first TRAIN_SAMPLES training images train; the last held_out, never trained on, validate.
    np.testing.assert_array_equal(np.rint(x[..., 0] * 255), images[:256])
    np.testing.assert_array_equal(np.rint(x_val[..., 0] * 255), images[-held_out:])
    assert (y.argmax(1) == labels[:256]).all() and (y_val.argmax(1) == labels[-held_out:]).all()
    assert seen["batch_size"] == namespace["BATCH_SIZE"] and seen["epochs"] == 1


@pytest.mark.parametrize("smoothing", [0.1, 0.0, 0.2])
def test_the_loss_floor_follows_label_smoothing(trained_notebook: dict, smoothing: float) -> None:
    """The floor is the entropy of the smoothed targets, computed from LABEL_SMOOTHING: 0 without
    smoothing (a hard-coded floor would be wrong as soon as exercise 1 is done)."""
    namespace = dict(trained_notebook, LABEL_SMOOTHING=smoothing, baseline_accuracy=0.9)
    text = quietly("read-history", namespace=namespace)
    on, off = (
        1 - smoothing + smoothing / 10,
        smoothing / 10,
    )  # the right digit's target, each other's
    expected = -(on * np.log(on) + (9 * off * np.log(off) if off else 0.0))
    assert f"floor {expected:.2f} (label smoothing {smoothing})" in text
    assert namespace["floor"] == pytest.approx(expected, abs=1e-6)
    assert (expected == 0.0) == (smoothing == 0.0)


@pytest.fixture(scope="module")
def inside(trained_notebook: dict) -> dict:
    namespace = dict(trained_notebook)
    namespace["inside"] = namespace["look_inside"](namespace["model"])
    return namespace


def test_first_layer_filters_are_the_first_convolution_weights(inside: dict) -> None:
    filters = inside["first_layer_filters"](inside["model"])
    assert filters.shape == (5, 5, 1, 32)
    kernel = next(layer for layer in inside["model"].layers if hasattr(layer, "kernel")).kernel
    np.testing.assert_array_equal(filters, inside["keras"].ops.convert_to_numpy(kernel))


def test_feature_maps_have_each_blocks_size(inside: dict) -> None:
    maps = inside["feature_maps"](inside["inside"], inside["x_val"][0])
    assert [m.shape for m in maps] == [(24, 24, 32), (10, 10, 64), (8, 8, 64)]
    assert all(m.min() >= 0 for m in maps)  # after a ReLU
    assert not np.array_equal(
        maps[0], inside["feature_maps"](inside["inside"], inside["x_val"][1])[0]
    )
    order = inside["most_active"](maps[2])
    means = maps[2].mean(axis=(0, 1))
    assert len(order) == 8 and means[order[0]] == means.max() and np.all(np.diff(means[order]) <= 0)


def test_receptive_fields_are_the_patches_each_block_sees(inside: dict) -> None:
    """5×5 after the first convolution; the pooling doubles the step; each 3×3 convolution adds 2
    steps."""
    assert inside["receptive_fields"](inside["model"]) == [(1, 5), (2, 10), (2, 14)]
    smaller = run_tagged_cells(
        "model", namespace=dict(inside), edits=[("model", "kernel_size=5", "kernel_size=3")]
    )
    model = smaller[
        "build_model"
    ]()  # a first convolution of 3×3 (exercise 2): every patch 2 smaller
    assert inside["receptive_fields"](model) == [(1, 3), (2, 8), (2, 12)]


def test_strongest_responses_pick_the_images_that_excite_a_unit_most(inside: dict) -> None:
    """Checked against a direct computation, image by image: the maximum of the unit's map; the top
    images differ from one unit to another."""
    images = inside["x_val"][:300]
    responses = inside["strongest_responses"](inside["inside"], images)
    assert [r.shape for r in responses] == [(300, 32), (300, 64), (300, 64)]
    for i in (0, 17, 299):
        maps = inside["feature_maps"](inside["inside"], images[i])
        for block in range(3):
            np.testing.assert_allclose(
                responses[block][i], maps[block].max(axis=(0, 1)), rtol=1e-5, atol=1e-6
            )
    first, second = (
        np.argsort(-responses[2][:, channel])[:6]
        for channel in np.argsort(-responses[2].mean(0))[:2]
    )
    assert set(first) != set(second)


def test_the_map_marks_the_models_own_mistakes(inside: dict) -> None:
    model, x_val, labels = inside["model"], inside["x_val"][:2000], inside["val_labels"][:2000]
    features, predicted = inside["learned_features"](inside["inside"], x_val)
    assert features.shape == (2000, 128) and features.min() >= 0
    np.testing.assert_array_equal(predicted, model.predict(x_val, verbose=0).argmax(axis=1))
    assert (
        0 < np.sum(predicted != labels) < 400
    )  # the tests' model: some mistakes, not a broken model
    points = inside["fit_map"](features).transform(features)
    assert points.shape == (2000, 2)
    share = inside["nearest_centre_share"]
    raw = x_val.reshape(2000, -1)
    assert share(points, labels) > share(inside["fit_map"](raw).transform(raw), labels)
    assert share(np.eye(10)[labels], labels) == 1.0  # points at their own centre: all of them
