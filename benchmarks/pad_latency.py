"""How fast the drawing pad answers, in a real browser: from each stroke's pointer-up to the last of
its pictures painted (the heat map and the three blocks' feature maps), and the size of what the
kernel sends for a stroke.

    python -m benchmarks.pad_latency             # 26 strokes: a 7, a 3, then each digit twice
    python -m benchmarks.pad_latency --rounds 1  # a 7, a 3, then each digit once

It opens the notebook in JupyterLab in headless Chromium (benchmarks/pad_session.py, as the browser
test does: Run All with the tests' quick settings; the model's size, which sets the time, is the
full model's), draws digits with the mouse, and prints the median and the worst latency. It writes
``outputs/pad_latency.json``. Chromium comes from the system (``apt-get install chromium``, or set
CHROMIUM_PATH).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from benchmarks import pad_session
from benchmarks.runs import write_results

# Code run in the notebook's kernel: the size of one stroke's message, as the browser receives it.
MESSAGE_SIZE = """
print(sum(len(json.dumps(getattr(pad, name)))
          for name in ("digit", "probabilities", "preview", "maps", "heat", "heat_digits", "point",
                       "message")))
"""


def measure(rounds: int) -> dict:
    chromium, missing = pad_session.missing_tools()
    if missing:
        raise SystemExit("the pad's benchmark needs " + " and ".join(missing))
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch, pad_session.jupyterlab(Path(scratch)) as url:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, args=pad_session.CHROMIUM_FLAGS
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            pad = pad_session.open_and_run_all(page, url)
            for digit in "73" + "0123456789" * rounds:
                pad_session.draw_on_pad(page, pad, digit)
            message = int(page.evaluate(pad_session.RUN_IN_KERNEL, MESSAGE_SIZE))
            times = pad_session.latencies(page)
            browser.close()
    return {
        "strokes": len(times),
        "median_ms": statistics.median(times),
        "max_ms": max(times),
        "message_bytes": message,
        "latencies_ms": times,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="times each digit is drawn")
    result = measure(parser.parse_args(argv).rounds)
    print(
        f"per stroke, from the pointer-up to the view updated: median {result['median_ms']:.0f} "
        f"ms, worst {result['max_ms']:.0f} ms over {result['strokes']} strokes; "
        f"{result['message_bytes']:,} bytes sent for the last stroke"
    )
    write_results(result, "pad_latency.json")
    return result


if __name__ == "__main__":
    main()
