"""Synthetic drawings of the digits 0-9 as a pad makes them: white strokes on a black 280×280
canvas.

Each digit is a few polylines in a unit box (x to the right, y down), drawn with OpenCV at a given
stroke width, height and place. test_drawing_pad.py feeds them to the notebook; test_browser.py
draws the same strokes with the mouse.
"""

from __future__ import annotations

import cv2
import numpy as np

Point = tuple[float, float]


def ellipse(cx: float, cy: float, rx: float, ry: float, points: int = 40) -> list[Point]:
    angles = np.radians(np.linspace(0, 360, points))
    return list(zip((cx + rx * np.cos(angles)).tolist(), (cy + ry * np.sin(angles)).tolist()))


STROKES: dict[str, list[list[Point]]] = {
    "0": [ellipse(0.5, 0.5, 0.32, 0.46)],
    "1": [[(0.32, 0.22), (0.55, 0.04), (0.55, 0.96)]],
    "2": [[(0.18, 0.28), (0.3, 0.08), (0.52, 0.03), (0.74, 0.1), (0.8, 0.3), (0.66, 0.52),
           (0.16, 0.96), (0.86, 0.95)]],
    "3": [[(0.18, 0.12), (0.45, 0.03), (0.74, 0.12), (0.76, 0.32), (0.46, 0.48), (0.8, 0.62),
           (0.82, 0.84), (0.5, 0.97), (0.16, 0.88)]],
    "4": [[(0.62, 0.96), (0.62, 0.04), (0.12, 0.66), (0.88, 0.66)]],
    "5": [[(0.82, 0.04), (0.26, 0.04), (0.2, 0.46), (0.52, 0.38), (0.78, 0.54), (0.8, 0.8),
           (0.52, 0.96), (0.18, 0.88)]],
    "6": [[(0.72, 0.04), (0.42, 0.22), (0.24, 0.52), (0.26, 0.82), (0.5, 0.96), (0.74, 0.84),
           (0.76, 0.62), (0.54, 0.5), (0.26, 0.62)]],
    "7": [[(0.14, 0.05), (0.86, 0.05), (0.42, 0.96)]],
    "8": [ellipse(0.5, 0.27, 0.24, 0.22), ellipse(0.5, 0.72, 0.3, 0.25)],
    "9": [ellipse(0.48, 0.28, 0.26, 0.23), [(0.74, 0.28), (0.7, 0.96)]],
}  # fmt: skip


def stroke_points(
    digit: str, height: float, centre: Point, aspect: float = 0.7
) -> list[np.ndarray]:
    """The strokes of ``digit`` in canvas pixels: a box ``height`` tall, ``aspect`` times as
    wide."""
    width = aspect * height
    return [
        np.array(
            [(centre[0] + (x - 0.5) * width, centre[1] + (y - 0.5) * height) for x, y in stroke]
        )
        for stroke in STROKES[digit]
    ]


def draw_digit(
    digit: str, width: int = 18, height: float = 180, centre: Point = (140, 140), canvas: int = 280
) -> np.ndarray:
    """White strokes ``width`` pixels wide on a black ``canvas``×``canvas`` image (grayscale
    uint8)."""
    image = np.zeros((canvas, canvas), np.uint8)
    for points in stroke_points(digit, height, centre):
        cv2.polylines(image, [np.round(points).astype(np.int32)], False, 255, width, cv2.LINE_AA)
    return image


def grid() -> list[tuple[str, int, float, Point]]:
    """(digit, stroke width, height, centre): hairline to marker, small to large, centred and in
    corners."""
    cases = []
    for digit in STROKES:
        for width in (4, 10, 18, 30):
            for height in (70, 150, 250):
                half = height / 2 + width
                corners = [] if height == 250 else [(half + 5, half + 5), (275 - half, 275 - half)]
                cases += [(digit, width, height, centre) for centre in [(140, 140), *corners]]
    return cases
