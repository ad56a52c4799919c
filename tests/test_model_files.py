"""Saving and loading models, and the OpenCV annotation, as the notebook defines them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_saved_model_loads_back_and_predicts_the_same(
    trained_notebook: dict, tmp_path: Path, suffix: str
) -> None:
    """The notebook's own trained model, batch normalisation's running statistics and all, survives
    the trip through either file format."""
    model = trained_notebook["model"]
    path = tmp_path / f"model{suffix}"
    model.save(path)
    loaded = trained_notebook["load_model_file"](path)
    x = trained_notebook["x_val"][:256]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    moving = [w for w in model.weights if "moving" in w.path]
    assert (
        len(moving) == 8
    )  # mean and variance of four batch normalisations, now trained away from 0 and 1
    assert not np.allclose(trained_notebook["keras"].ops.convert_to_numpy(moving[1]), 1.0)


def test_missing_model_file(notebook_functions: dict, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no model file"):
        notebook_functions["load_model_file"](tmp_path / "absent.keras")


def test_model_file_of_the_wrong_kind(notebook_functions: dict, tmp_path: Path) -> None:
    path = tmp_path / "weights.pkl"
    path.write_bytes(b"not a model")
    with pytest.raises(ValueError, match=r"expected a \.keras or \.h5 model file"):
        notebook_functions["load_model_file"](path)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_model_file_that_is_not_a_model(
    notebook_functions: dict, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"model{suffix}"
    path.write_text("this is a text file, not a model")
    with pytest.raises(ValueError, match="is not a Keras model file"):
        notebook_functions["load_model_file"](path)


def test_annotation_marks_right_and_wrong_predictions(notebook_functions: dict) -> None:
    annotate = notebook_functions["annotate_prediction"]
    digit = np.zeros((28, 28, 1), np.float32)
    digit[8:20, 12:16] = 1.0
    right, wrong = annotate(digit, 3, 3), annotate(digit, 5, 3)
    assert right.shape == wrong.shape == (28 * 5 + 30, 28 * 5, 3)
    assert right.dtype == np.uint8
    # The enlarged digit is there, pixel for pixel (the frame aside).
    enlarged = np.kron(digit[:, :, 0] * 255, np.ones((5, 5)))
    np.testing.assert_array_equal(right[5:135, 5:135, 0], enlarged[5:135, 5:135])
    # The frame is green (BGR) when right and red when wrong; the wrong one also has more text.
    assert tuple(right[0, 70]) == (0, 160, 0)
    assert tuple(wrong[0, 70]) == (0, 0, 220)
    # The text, below the digit and inside the frame, is written in the frame's colour.
    for picture, channel in ((right, 1), (wrong, 2)):  # BGR: green is channel 1, red channel 2
        text = picture[145:165, 5:-5].astype(int)
        inked = text[(255 - text.min(axis=2)) > 100]  # pixels that the text darkened
        assert len(inked) > 20
        others = [c for c in range(3) if c != channel]
        assert (inked[:, channel] > inked[:, others].max(axis=1) + 50).mean() > 0.9
    assert np.count_nonzero(wrong[145:165] != 255) > np.count_nonzero(
        right[145:165] != 255
    )  # "(true 3)"
