"""The drawing pad in a real browser: JupyterLab on 127.0.0.1, driven by Chromium through
Playwright (benchmarks/pad_session.py).

A learner's session, automated: open the notebook in JupyterLab, Run All (the tests' quick
settings), draw digits on the pad with the mouse, read the digit and the look-inside view that the
page shows, press Clear. It needs Chromium from the system: on Debian or Ubuntu `apt-get install
chromium`, elsewhere any Chromium or Chrome named by CHROMIUM_PATH. Without one it skips, saying
so, except under CI (CI=true), where a missing browser fails the run. `pytest -m "not browser"`
leaves it out. How fast the pad answers is measured by `python -m benchmarks.pad_latency`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks import pad_session
from notebooks.notebook_tools import output_root
from tests.helpers import fail_or_skip

pytestmark = pytest.mark.browser

# Code run in the notebook's kernel: section 20's projection of what the pad's drawing becomes, as a
# place on the pad's map picture (fractions of its width and height).
KERNEL_POINT = """
_seen = prepare_digit(decode_drawing(pad.drawing))
_features, _ = learned_features(look_inside(model), _seen[np.newaxis])  # a model of its own
print(json.dumps(pad.to_map(projections[learned].transform(_features)[0]).tolist()))
"""
# And section 18's heat map of the answer for the same image, as heat_picture() colours it.
KERNEL_HEAT = """
_seen = prepare_digit(decode_drawing(pad.drawing))
_scores, _heat = occlusion(model, _seen)
_answer = int(_scores.argmax())
print(json.dumps([_answer, heat_picture(_seen, _heat[:, :, _answer]).tolist()]))
"""


def chromium_or_skip() -> str:
    """The Chromium executable to drive, or skip (fail under CI) saying how to get one."""
    chromium, missing = pad_session.missing_tools()
    if missing:
        fail_or_skip("the browser test needs " + " and ".join(missing))
    return chromium


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[str]:
    with pad_session.jupyterlab(tmp_path) as url:
        yield url


def view_of(pad) -> dict:
    """What the look-inside view shows: the three maps' pixels (as PNG data URLs) and the ring's
    centre on the map picture, in picture pixels."""
    maps = pad.locator("canvas.maps").evaluate_all("canvases => canvases.map(c => c.toDataURL())")
    heat = pad.locator("canvas.heat").evaluate("canvas => canvas.toDataURL()")
    ring, background = (
        pad.locator(".ring").bounding_box(),
        pad.locator(".background").bounding_box(),
    )
    centre = (
        ring["x"] + ring["width"] / 2 - background["x"],
        ring["y"] + ring["height"] / 2 - background["y"],
    )
    return {
        "maps": maps,
        "heat": heat,
        "ring": centre,
        "size": (background["width"], background["height"]),
    }


def pixels(data_url: str) -> np.ndarray:
    """A canvas's PNG data URL, decoded to RGB."""
    png = np.frombuffer(base64.b64decode(data_url.split(",", 1)[1]), np.uint8)
    return cv2.cvtColor(cv2.imdecode(png, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def test_drawing_pad_reads_digits_and_shows_the_inside(jupyterlab: str) -> None:
    """A learner's session: Run All, draw a 7 with the mouse, then a 3. The pad reads each digit,
    and its look-inside view shows three rows of feature maps and a ring on the map, which both
    change from one digit to the other; the ring sits where section 20's functions, run in the same
    kernel, project the same 28×28 image, and the heat map painted is section 18's, computed there
    for the same image. The pad's screenshot goes to outputs/drawing_pad.png."""
    chromium = chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    outputs = output_root() / "outputs"
    outputs.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=pad_session.CHROMIUM_FLAGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        pad = pad_session.open_and_run_all(page, jupyterlab)
        digit, bars = pad.locator(".digit"), pad.locator(".bar")
        expect(digit).to_have_text("?")
        expect(pad.locator(".ring")).to_be_hidden()

        seen = {}
        for shown in ("7", "3"):
            pad_session.draw_on_pad(page, pad, shown)
            expect(digit).to_have_text(shown, timeout=30_000)
            expect(bars).to_have_count(10)
            expect(pad.locator(".ring")).to_be_visible()
            seen[shown] = view_of(pad)
            printed = page.evaluate(pad_session.RUN_IN_KERNEL, KERNEL_POINT)
            kernel = json.loads(printed) if printed.startswith("[") else pytest.fail(printed)
            width, height = seen[shown]["size"]
            expected = (kernel[0] * width, kernel[1] * height)
            distance = np.hypot(*np.subtract(seen[shown]["ring"], expected))
            assert distance <= 2.0, (seen[shown]["ring"], expected)
            assert len(seen[shown]["maps"]) == 3
            printed = page.evaluate(pad_session.RUN_IN_KERNEL, KERNEL_HEAT)
            answer, heat = json.loads(printed) if printed.startswith("[") else pytest.fail(printed)
            assert answer == int(shown)
            painted = pixels(seen[shown]["heat"])[:, :28].astype(int)  # the answer's map
            assert np.abs(painted - np.array(heat)).max() <= 2
        pad.screenshot(path=str(outputs / "drawing_pad.png"))
        pad.locator("button.clear").click()
        expect(digit).to_have_text("?", timeout=30_000)
        expect(pad.locator(".ring")).to_be_hidden()
        browser.close()
    assert all(a != b for a, b in zip(seen["7"]["maps"], seen["3"]["maps"]))
    assert seen["7"]["heat"] != seen["3"]["heat"]
    assert np.hypot(*np.subtract(seen["7"]["ring"], seen["3"]["ring"])) > 2.0
