"""prepare_digit and predict_digit: MNIST-style preparation of a learner's own digit image."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"


def draw(digit: str = "7", size: tuple[int, int] = (240, 320), at: tuple[int, int] = (40, 190)) -> np.ndarray:
    """Dark ink on white paper, uint8 grayscale, the digit placed at ``at`` (x, y of its baseline)."""
    image = np.full(size, 255, np.uint8)
    cv2.putText(image, digit, at, cv2.FONT_HERSHEY_SIMPLEX, 4, 0, 12, cv2.LINE_AA)
    return image


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def ink_box(image: np.ndarray, level: float = 0.05) -> tuple[int, int]:
    rows, cols = np.nonzero(image > level)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


@pytest.mark.parametrize("digit", list("0123456789"))
def test_result_is_centred_and_sized_like_mnist(notebook_functions: dict, digit: str) -> None:
    result = notebook_functions["prepare_digit"](draw(digit))
    assert result.shape == (28, 28) and result.dtype == np.float32
    assert 0.0 <= result.min() and result.max() <= 1.0 and result.max() > 0.9
    row, col = centre_of_mass(result)
    assert abs(row - 13.5) <= 1.0 and abs(col - 13.5) <= 1.0
    height, width = ink_box(result)
    assert max(height, width) <= 20
    assert max(height, width) >= 18  # the longer side is scaled up to about 20 pixels, not left small


@pytest.mark.parametrize("digit", ["1", "7", "0"])
def test_aspect_ratio_is_kept(notebook_functions: dict, digit: str) -> None:
    image = draw(digit)
    drawn_height, drawn_width = ink_box(255 - image, level=127)
    height, width = ink_box(notebook_functions["prepare_digit"](image), level=0.5)
    assert abs(width / height - drawn_width / drawn_height) < 0.1


def test_light_on_dark_and_dark_on_light_give_the_same_array(notebook_functions: dict) -> None:
    prepare = notebook_functions["prepare_digit"]
    dark_on_light = draw("4")
    np.testing.assert_allclose(prepare(dark_on_light), prepare(255 - dark_on_light), atol=1e-3)


def test_off_centre_digit_in_a_large_image(notebook_functions: dict) -> None:
    prepare = notebook_functions["prepare_digit"]
    centred = prepare(draw("5", size=(240, 320), at=(110, 180)))
    corner = prepare(draw("5", size=(900, 1200), at=(950, 860)))
    np.testing.assert_allclose(corner, centred, atol=0.1)


def test_paper_tint_and_noise_are_ignored(notebook_functions: dict) -> None:
    prepare = notebook_functions["prepare_digit"]
    clean = draw("2").astype(np.float32)
    rng = np.random.default_rng(0)
    tinted = 0.75 * clean + 40 + rng.normal(0, 10, clean.shape)  # grey-yellowish, grainy paper
    tinted_bgr = np.clip(np.stack([tinted * 0.85, tinted * 0.95, tinted], axis=-1), 0, 255).astype(np.uint8)
    result, reference = prepare(tinted_bgr), prepare(clean.astype(np.uint8))
    assert np.abs(result - reference).mean() < 0.05
    assert result[0].max() == result[-1].max() == 0.0  # no noise left in the frame around the digit


def test_bgr_and_bgra_inputs(notebook_functions: dict) -> None:
    prepare = notebook_functions["prepare_digit"]
    gray = draw("3")
    reference = prepare(gray)
    bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    np.testing.assert_allclose(prepare(bgr), reference, atol=1e-3)
    # Black ink drawn on a fully transparent layer: the transparent parts count as white paper.
    bgra = np.zeros((*gray.shape, 4), np.uint8)
    bgra[..., 3] = 255 - gray
    np.testing.assert_allclose(prepare(bgra), reference, atol=1e-2)


def test_reads_files_of_every_sample(notebook_functions: dict) -> None:
    paths = sorted(SAMPLES.glob("*.png"))
    assert len(paths) == 30
    for path in paths:
        result = notebook_functions["prepare_digit"](path)
        assert result.shape == (28, 28)
        assert max(ink_box(result)) <= 20


def test_an_mnist_digit_keeps_its_polarity_and_shape(notebook_functions: dict) -> None:
    """MNIST digits were made this way already, so preparing one again must not invert or scramble it.

    It does not come back identical: the Otsu mask leaves out the faintest edge pixels, so the cropped
    digit is scaled up a little. A wrong polarity or placement would give a correlation near or below 0.
    """
    with np.load(ROOT / "data" / "mnist.npz") as data:
        digits = data["x_test"][:50]
    prepare = notebook_functions["prepare_digit"]
    correlations = [np.corrcoef(prepare(d).ravel(), d.ravel().astype(np.float32))[0, 1] for d in digits]
    assert np.mean(correlations) > 0.7 and min(correlations) > 0.4


def test_float_input_in_unit_range(notebook_functions: dict) -> None:
    prepare = notebook_functions["prepare_digit"]
    gray = draw("8")
    np.testing.assert_allclose(prepare(gray.astype(np.float32) / 255), prepare(gray), atol=1e-3)


def test_predict_digit_returns_the_digit_and_ten_probabilities(notebook_functions: dict) -> None:
    keras = notebook_functions["keras"]

    class Fixed(keras.Model):  # a stand-in model that always answers 6
        def call(self, x):
            return keras.ops.one_hot(keras.ops.full((keras.ops.shape(x)[0],), 6, dtype="int32"), 10)

    digit, probabilities = notebook_functions["predict_digit"](Fixed(), draw("6"))
    assert digit == 6 and probabilities.shape == (10,)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (Path("no/such/digit.png"), "no image file at"),
        ("no/such/digit.png", "no image file at"),
        (np.zeros((0, 0), np.uint8), "empty"),
        (np.full((50, 50), 255, np.uint8), "no ink"),
        (np.full((50, 50, 3), 30, np.uint8), "no ink"),
        (np.zeros((5, 28, 28, 1), np.uint8), "shape"),
        (np.zeros((28, 28, 2), np.uint8), "shape"),
        (np.zeros((28, 28), np.int64), "pixel type"),
        (np.full((28, 28), 3.0), r"\[0, 1\]"),
        (np.full((28, 28), np.nan), r"\[0, 1\]"),
        ([[0, 255], [255, 0]], "file path or a NumPy array"),
    ],
)
def test_bad_input_gets_a_clear_error(notebook_functions: dict, bad: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        notebook_functions["prepare_digit"](bad)


def test_a_file_that_is_not_an_image(notebook_functions: dict, tmp_path: Path) -> None:
    path = tmp_path / "digit.png"
    path.write_text("not a picture")
    with pytest.raises(ValueError, match="is not an image"):
        notebook_functions["prepare_digit"](path)
