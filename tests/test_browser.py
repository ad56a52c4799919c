"""The drawing pad in a real browser: JupyterLab on 127.0.0.1, driven by Chromium through Playwright.

A learner's session, automated: open the notebook in JupyterLab, Run All (quick mode, one epoch), draw
digits on the pad with the mouse, read the digit that the page shows, press Clear. It needs Chromium from
the system (Playwright's own browser download is not used): on Debian or Ubuntu `apt-get install
chromium`, elsewhere any Chromium or Chrome named by CHROMIUM_PATH. Without one it skips, saying so,
except under CI (CI=true), where a missing browser fails the run. `pytest -m "not browser"` leaves it out.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from notebooks.notebook_tools import NOTEBOOK, ROOT
from tests.conftest import fail_or_skip
from tests.drawings import stroke_points

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",  # no calls home: the machine has no internet
    "--disable-component-update",
    "--disable-sync",
]
SETTINGS = {  # JupyterLab user settings: every cell in the page, no news pop-up
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": '{"fetchNews": "false"}',
}


def chromium_or_skip() -> str:
    """The Chromium executable to drive, or skip (fail under CI) saying how to get one."""
    chromium = (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    missing = (
        []
        if chromium
        else ["Chromium (Debian/Ubuntu: apt-get install chromium; or set CHROMIUM_PATH)"]
    )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright (pip install -r requirements.txt)")
    if missing:
        fail_or_skip("the browser test needs " + " and ".join(missing))
    return chromium


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab serving a copy of the project (so that autosave never touches the committed notebook)
    on 127.0.0.1 only, with a random token; yields the notebook's URL."""
    (tmp_path / "notebooks").mkdir()
    shutil.copy(NOTEBOOK, tmp_path / "notebooks")
    (tmp_path / "data").symlink_to(ROOT / "data")
    for name, text in SETTINGS.items():
        path = tmp_path / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    port, token = free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        MNIST_QUICK="1",
        MNIST_EPOCHS="1",
        MNIST_OUTPUT_ROOT=str(tmp_path / "run"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        IPYTHONDIR=str(tmp_path / "ipython"),
    )
    command = [
        *(sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}"),
        *(f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}"),
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, as JupyterLab's own UI tests use
        *(
            ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        ),  # CI runs as root
    ]
    log = open(tmp_path / "jupyterlab.log", "w")  # closed in the finally clause below
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "jupyterlab.log").read_text()) from None
                time.sleep(0.5)
        yield f"{base}/lab/tree/notebooks/{NOTEBOOK.name}?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def draw(page, canvas, digit: str) -> None:
    """Draw ``digit`` on the pad with the mouse, stroke by stroke, as a person would."""
    box = canvas.bounding_box()
    scale = box["width"] / 280  # the pad's own pixels to the page's
    for points in stroke_points(digit, height=200, centre=(140, 140)):
        x, y = box["x"] + points[0][0] * scale, box["y"] + points[0][1] * scale
        page.mouse.move(x, y)
        page.mouse.down()
        for px, py in points[1:]:
            page.mouse.move(box["x"] + px * scale, box["y"] + py * scale, steps=4)
        page.mouse.up()


def test_drawing_pad_reads_digits_drawn_with_the_mouse(jupyterlab: str) -> None:
    chromium = chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    screenshot = Path(os.environ["MNIST_OUTPUT_ROOT"]) / "outputs" / "drawing_pad.png"
    started = time.monotonic()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(jupyterlab)
        page.wait_for_function(
            "window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel",
            timeout=120_000,
        )
        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.ready")
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")

        pad = page.locator(".mnist-pad")
        canvas, digit, bars = pad.locator("canvas.pad"), pad.locator(".digit"), pad.locator(".bar")
        expect(canvas).to_be_visible(timeout=300_000)  # Run All reaches the pad after training
        canvas.scroll_into_view_if_needed()
        expect(digit).to_have_text("?")

        draw(page, canvas, "7")
        expect(digit).to_have_text("7", timeout=30_000)
        expect(bars).to_have_count(10)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        pad.screenshot(path=str(screenshot))

        pad.locator("button.clear").click()
        expect(digit).to_have_text("?", timeout=30_000)
        expect(bars).to_have_count(0)
        expect(pad.locator(".note")).to_have_text("Draw a digit")

        draw(page, canvas, "3")
        expect(digit).to_have_text("3", timeout=30_000)
        browser.close()
    print(f"browser test: {time.monotonic() - started:.0f} s; screenshot {screenshot}")
