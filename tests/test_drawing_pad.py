"""The drawing pad's Python side: canvas data → image → prepare_digit → prediction, as the widget calls it.

The browser side is tested in a real browser by test_browser.py; here the widget runs without a frontend.
"""

from __future__ import annotations

import base64
import collections

import cv2
import numpy as np
import pytest
from drawings import draw_digit, grid

PAD = 280


def data_url(image: np.ndarray, kind: str = ".png") -> str:
    """What the browser sends: the canvas as a base64 data URL (canvas.toDataURL())."""
    encoded = base64.b64encode(cv2.imencode(kind, image)[1].tobytes()).decode()
    return f"data:image/{kind[1:]};base64,{encoded}"


def as_canvas(image: np.ndarray) -> np.ndarray:
    """A browser canvas is RGBA: white strokes on an opaque black background (BGRA for OpenCV)."""
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGRA)


@pytest.fixture
def fixed_model(notebook_functions: dict):
    """A stand-in model that always answers 6 with probability 1."""
    keras = notebook_functions["keras"]

    class Fixed(keras.Model):
        def call(self, x):
            return keras.ops.one_hot(keras.ops.full((keras.ops.shape(x)[0],), 6, dtype="int32"), 10)

    return Fixed()


TEXT = base64.b64encode(b"this is not a picture").decode()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("", "PNG data URL"),
        (None, "PNG data URL"),
        ("just some text", "PNG data URL"),
        ("data:image/png;base64,", "empty"),
        ("data:image/png;base64,***", "not valid base64"),
        (f"data:image/png;base64,{TEXT}", "not a PNG image"),
        (data_url(np.zeros((100, 100), np.uint8)), "expected a 280×280 drawing, got 100×100"),
        (data_url(np.zeros((PAD, PAD), np.uint8), ".jpg"), "PNG data URL"),
    ],
)
def test_bad_canvas_data_gets_a_clear_error(notebook_functions: dict, bad: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        notebook_functions["decode_drawing"](bad)


def test_a_blank_pad_has_no_ink(notebook_functions: dict, fixed_model) -> None:
    blank = data_url(as_canvas(np.zeros((PAD, PAD), np.uint8)))
    with pytest.raises(ValueError, match="no ink found"):
        notebook_functions["read_drawing"](fixed_model, blank)


def test_read_drawing_prepares_the_canvas_like_any_picture(notebook_functions: dict, fixed_model) -> None:
    canvas = as_canvas(draw_digit("4", width=18, height=200, centre=(100, 160)))
    digit, probabilities, seen = notebook_functions["read_drawing"](fixed_model, data_url(canvas))
    assert digit == 6 and probabilities.shape == (10,)
    np.testing.assert_array_equal(seen, notebook_functions["prepare_digit"](canvas))


def test_the_widget_shows_errors_instead_of_raising(notebook_functions: dict, fixed_model) -> None:
    pad = notebook_functions["DrawingPad"](fixed_model)
    synced = {"size", "brush", "drawing", "digit", "probabilities", "preview", "message"}
    assert synced <= set(pad.get_state())  # what the browser side reads and writes
    assert (pad.digit, pad.message, pad.size) == (-1, "Draw a digit", PAD)
    pad.drawing = "data:image/png;base64,***"  # what a broken browser might send
    assert pad.digit == -1 and "not valid base64" in pad.message
    pad.drawing = data_url(as_canvas(np.zeros((PAD, PAD), np.uint8)))
    assert pad.digit == -1 and "no ink found" in pad.message and pad.probabilities == []
    canvas = as_canvas(draw_digit("1"))
    pad.drawing = data_url(canvas)
    assert pad.digit == 6 and pad.message == ""
    assert len(pad.probabilities) == 10 and pad.probabilities[6] == 1.0
    preview = np.array(pad.preview).reshape(28, 28)  # row by row, as the browser draws it
    np.testing.assert_allclose(preview, notebook_functions["prepare_digit"](canvas), atol=5e-4)
    pad.drawing = ""  # the Clear button
    assert (pad.digit, pad.probabilities, pad.preview, pad.message) == (-1, [], [], "Draw a digit")


def test_strokes_come_out_as_wide_as_mnist_strokes(notebook_functions: dict) -> None:
    """Hairlines on large digits and marker strokes on small ones both end up within the range of widths
    that 80% of MNIST's digits have (measured in the notebook): the median over the ten digits, for every
    stroke width and height on its own."""
    stroke_width, low, high = notebook_functions["stroke_width"], *notebook_functions["MNIST_STROKE"][::2]
    widths = collections.defaultdict(list)
    for digit, brush, height, centre in grid():
        prepared = notebook_functions["prepare_digit"](draw_digit(digit, brush, height, centre))
        widths[brush, height].append(stroke_width((prepared > 0.5).astype(np.uint8)))
    medians = {key: round(float(np.median(values)), 2) for key, values in widths.items()}
    assert len(medians) == 12
    assert all(low <= median <= high for median in medians.values()), medians


def test_the_model_reads_drawn_digits(trained_notebook: dict) -> None:
    """Ten digits drawn as strokes at four widths, three sizes and three places, sent as the pad sends
    them: the notebook's quick one-epoch model reads nearly all of them, whatever the stroke width."""
    read_drawing, model = trained_notebook["read_drawing"], trained_notebook["model"]
    right = collections.defaultdict(list)
    for digit, brush, height, centre in grid():
        canvas = as_canvas(draw_digit(digit, brush, height, centre))
        right[brush].append(read_drawing(model, data_url(canvas))[0] == int(digit))
    total = sum(map(sum, right.values())), sum(map(len, right.values()))
    print(f"read {total[0]} of {total[1]}; by stroke width:", {b: np.mean(r) for b, r in right.items()})
    assert total[0] >= 0.9 * total[1]
    assert all(np.mean(r) >= 0.8 for r in right.values())
