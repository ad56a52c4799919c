"""Make the sample "handwritten" digits in ``data/samples/``.

These are not photos of real handwriting: each digit is drawn with one of
OpenCV's Hershey fonts (two of them handwriting-style), at a random size, slant
and place, on a random background, so that they look like what a learner would
feed the notebook rather than like MNIST:

* ``paper``: dark ink on tinted, grainy paper, off-centre in a large BGR image;
* ``chalk``: light chalk on a dark board, grayscale;
* ``transparent``: dark ink on a transparent background (BGRA, alpha channel).

The file name holds the true label: ``<digit>_<style>.png``.
Usage (from the repository root): ``python data/make_samples.py``.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

FONTS = (
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
)
STYLES = ("paper", "chalk", "transparent")


def draw_digit(digit: int, rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A float mask in [0, 1] of one digit, drawn, slanted and placed at random."""
    height, width = size
    font = FONTS[rng.integers(len(FONTS))]
    scale = rng.uniform(3.0, 4.5)
    thickness = int(rng.integers(6, 12))
    (text_w, text_h), _ = cv2.getTextSize(str(digit), font, scale, thickness)
    canvas = np.zeros((height, width), np.uint8)
    x = int(rng.integers(10, max(11, width - text_w - 10)))
    y = int(rng.integers(text_h + 10, max(text_h + 11, height - 10)))
    cv2.putText(canvas, str(digit), (x, y), font, scale, 255, thickness, cv2.LINE_AA)
    angle = rng.uniform(-12, 12)
    turn = cv2.getRotationMatrix2D((x + text_w / 2, y - text_h / 2), angle, 1.0)
    canvas = cv2.warpAffine(canvas, turn, (width, height))
    return canvas.astype(np.float32) / 255.0


def make_sample(digit: int, style: str, rng: np.random.Generator) -> np.ndarray:
    size = (int(rng.integers(180, 260)), int(rng.integers(180, 260)))
    ink = draw_digit(digit, rng, size)[..., np.newaxis]
    if style == "paper":
        paper = np.array([rng.uniform(200, 235), rng.uniform(215, 245), rng.uniform(225, 250)])
        pen = np.array([rng.uniform(60, 140), rng.uniform(20, 60), rng.uniform(10, 40)])
        image = paper * (1 - ink) + pen * ink + rng.normal(0, 8, (*size, 3))
    elif style == "chalk":
        board, chalk = rng.uniform(20, 60), rng.uniform(200, 245)
        image = board * (1 - ink[..., 0]) + chalk * ink[..., 0] + rng.normal(0, 6, size)
    elif style == "transparent":
        image = np.zeros((*size, 4))
        image[..., :3] = rng.uniform(0, 40)
        image[..., 3] = 255 * ink[..., 0]
    else:
        raise ValueError(f"unknown style {style!r}")
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def main() -> None:
    out = Path(__file__).resolve().parent / "samples"
    out.mkdir(exist_ok=True)
    rng = np.random.default_rng(2024)
    for style in STYLES:
        for digit in range(10):
            cv2.imwrite(str(out / f"{digit}_{style}.png"), make_sample(digit, style, rng))
    print(f"wrote {10 * len(STYLES)} images to data/samples/")


if __name__ == "__main__":
    main()
