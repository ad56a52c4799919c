"""A learner's session with the drawing pad, automated: JupyterLab on 127.0.0.1 serving a copy of
the notebook, Chromium driven by Playwright, Run All, then strokes drawn with the mouse. Shared by
``tests/test_browser.py`` (what the pad shows) and ``benchmarks.pad_latency`` (how fast it shows
it).

Chromium comes from the system (Playwright's own browser download is not used): on Debian or Ubuntu
``apt-get install chromium``, elsewhere any Chromium or Chrome named by CHROMIUM_PATH.
"""

from __future__ import annotations

import contextlib
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

from notebooks.notebook_tools import NOTEBOOK, ROOT, TEST_SETTINGS
from tests.drawings import stroke_points

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


def missing_tools() -> tuple[str | None, list[str]]:
    """The Chromium executable (or None), and what the session lacks, said so a person can get
    it."""
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
        missing.append("Playwright (pip install -r requirements-dev.txt)")
    return chromium, missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(folder: Path) -> Iterator[str]:
    """JupyterLab serving a copy of the project in ``folder`` (so that autosave never touches the
    committed notebook) on 127.0.0.1 only, with a random token, the notebook set to the tests'
    quick settings; yields the notebook's URL. The run's models and pictures go to
    ``folder/run``."""
    (folder / "notebooks").mkdir()
    shutil.copy(NOTEBOOK, folder / "notebooks")
    (folder / "data").symlink_to(ROOT / "data")
    for name, text in SETTINGS.items():
        path = folder / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    port, token = free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        **TEST_SETTINGS,
        MNIST_OUTPUT_ROOT=str(folder / "run"),
        JUPYTERLAB_SETTINGS_DIR=str(folder / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(folder / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(folder / "runtime"),
        IPYTHONDIR=str(folder / "ipython"),
    )
    root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # as CI runs
    command = [
        *(sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}"),
        *(f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}"),
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, as JupyterLab's UI tests use
        *root,
    ]
    log = open(folder / "jupyterlab.log", "w")  # closed in the finally clause below
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
                    raise RuntimeError((folder / "jupyterlab.log").read_text()) from None
                time.sleep(0.5)
        yield f"{base}/lab/tree/notebooks/{NOTEBOOK.name}?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def open_and_run_all(page, url: str):
    """Open the notebook, Run All, and wait for the pad (after training); the pad's locator, with
    the timing instruments put into the page."""
    from playwright.sync_api import expect

    page.goto(url)
    page.wait_for_function(
        "window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel",
        timeout=120_000,
    )
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.ready")
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    pad = page.locator(".mnist-pad")
    expect(pad.locator("canvas.pad")).to_be_visible(timeout=300_000)
    expect(pad.locator(".background")).to_be_visible()  # the map, before any drawing
    pad.locator("canvas.pad").scroll_into_view_if_needed()
    page.evaluate(RECORD_TIMES)
    return pad


def draw_on_pad(page, pad, digit: str) -> None:
    """Clear the pad, then draw ``digit`` stroke by stroke, each after the view has shown the one
    before."""
    from playwright.sync_api import expect

    pad.locator("button.clear").click()
    expect(pad.locator(".digit")).to_have_text("?", timeout=30_000)
    stroke_and_wait(page, pad.locator("canvas.pad"), stroke_points(digit, 200, (140, 140)))


PICTURES = 4  # painted for each stroke: the heat map and each block's feature maps


def latencies(page) -> list[float]:
    """Milliseconds from each pointer-up on the pad to the last of its pictures painted."""
    ends, paints = page.evaluate("() => [window.strokeEnds, window.mapPaints]")
    return [sorted(p for p in paints if p > end)[PICTURES - 1] - end for end in ends]


# Test instruments, put into the page: the time of each pointer-up on the pad, and of each painting
# of a feature-map or heat-map canvas (the last things the pad's view updates after a stroke, once
# their pictures load).
RECORD_TIMES = """() => {
  const pad = document.querySelector(".mnist-pad canvas.pad");
  window.strokeEnds = [];
  window.mapPaints = [];
  pad.addEventListener("pointerup", () => window.strokeEnds.push(performance.now()), true);
  const putImageData = CanvasRenderingContext2D.prototype.putImageData;
  CanvasRenderingContext2D.prototype.putImageData = function (...args) {
    putImageData.apply(this, args);
    if (this.canvas.classList.contains("maps")) window.mapPaints.push(performance.now());
  };
  const drawImage = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function (...args) {
    drawImage.apply(this, args);
    if (this.canvas.classList.contains("heat")) window.mapPaints.push(performance.now());
  };
}"""
RUN_IN_KERNEL = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({ code, store_history: false });
  let text = "";
  future.onIOPub = (message) => {
    const content = message.content;
    if (message.header.msg_type === "stream" && content.name === "stdout") text += content.text;
    if (message.header.msg_type === "error") text += `${content.ename}: ${content.evalue}`;
  };
  await future.done;
  return text;
}"""


def stroke_and_wait(page, canvas, strokes: list) -> None:
    """Draw strokes one at a time, each after the view has shown the one before (all its
    pictures painted)."""
    for points in strokes:
        paints = page.evaluate("() => window.mapPaints.length")
        draw_stroke(page, canvas, points)
        page.wait_for_function(f"window.mapPaints.length >= {paints + PICTURES}", timeout=30_000)


def draw_stroke(page, canvas, points) -> None:
    box = canvas.bounding_box()
    scale = box["width"] / int(canvas.get_attribute("width"))  # the pad's pixels to the page's
    page.mouse.move(box["x"] + points[0][0] * scale, box["y"] + points[0][1] * scale)
    page.mouse.down()
    for px, py in points[1:]:
        page.mouse.move(box["x"] + px * scale, box["y"] + py * scale, steps=4)
    page.mouse.up()
