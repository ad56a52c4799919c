"""Refresh the committed notebook: run it in full mode and write it back with the outputs of that
run.

    python -m benchmarks.refresh_notebook                         # the full run, on 2 cores
    python -m benchmarks.refresh_notebook --picture PNG --no-run  # only replace the pad's picture
    python -m benchmarks.refresh_notebook --executed RUN.ipynb    # commit a run made elsewhere

``--executed`` takes a notebook that a benchmark ran with the defaults (``benchmarks.compare``
keeps ``outputs/benchmark/notebook_seed42.ipynb``; it injects no parameters then): the same code
cells as the committed notebook, run in a fresh kernel top to bottom. Its outputs go into the
committed notebook, whose text cells stay as they are. It saves running the full run again.

The run is the learner's: a fresh kernel, the notebook's defaults, nothing injected (the MNIST_*
variables of this shell are ignored). The notebook is then written back with clean metadata and the
drawing pad's widget view reduced to its text (``notebook_tools.clean_copy``). ``--picture`` first
puts a PNG, the screenshot that ``tests/test_browser.py`` takes of the pad, into the notebook (the
picture attached to the markdown cell that introduces the pad) and into ``docs/drawing_pad.png``, so
that the notebook and the README show the same picture.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import tempfile
from pathlib import Path

import cv2
import nbformat
import numpy as np
import papermill

from notebooks.notebook_tools import NOTEBOOK, ROOT, clean_copy

PICTURE = "drawing_pad.png"


def attach_picture(png: Path) -> None:
    """Put ``png`` into the markdown cell that shows attachment:drawing_pad.png, and into docs/."""
    data = png.read_bytes()
    if cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is None:
        raise ValueError(f"{png} is not a PNG image")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    (cell,) = [c for c in notebook.cells if f"attachment:{PICTURE}" in c.source]
    cell.attachments = {PICTURE: {"image/png": base64.b64encode(data).decode()}}
    nbformat.write(notebook, NOTEBOOK)
    shutil.copy(png, ROOT / "docs" / PICTURE)
    print(f"put {png} into the notebook and docs/{PICTURE}")


def use_run(executed: Path) -> None:
    """Commit the outputs of ``executed``, a run made elsewhere, after checking that it ran this
    notebook's code as it stands: the same code cells (no injected parameters), each run once, in
    order. The text cells are the committed notebook's own (they run nothing)."""
    run = nbformat.read(executed, as_version=4)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    ran = [cell for cell in run.cells if cell.cell_type == "code"]
    mine = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if [cell.source for cell in ran] != [cell.source for cell in mine]:
        raise ValueError(f"{executed} is not a run of the code of {NOTEBOOK.name} as it stands")
    if [cell.execution_count for cell in ran] != list(range(1, len(ran) + 1)):
        raise ValueError(f"{executed} was not run top to bottom in a fresh kernel")
    for cell, done in zip(mine, ran):
        cell.outputs, cell.execution_count = done.outputs, done.execution_count
    with tempfile.TemporaryDirectory() as scratch:
        merged = Path(scratch) / NOTEBOOK.name
        nbformat.write(notebook, merged)
        clean_copy(merged, NOTEBOOK)
    print(f"wrote {NOTEBOOK.relative_to(ROOT)} with the outputs of {executed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--picture", type=Path, help="a new screenshot of the drawing pad (PNG)")
    parser.add_argument("--no-run", action="store_true", help="do not run the notebook")
    parser.add_argument("--executed", type=Path, help="a run of this notebook to commit instead")
    args = parser.parse_args()
    if args.executed:
        use_run(args.executed)
    if args.picture:
        attach_picture(args.picture)
    if args.no_run or args.executed:
        return
    # The kernel inherits the environment: run with the notebook's own defaults.
    for key in [key for key in os.environ if key.startswith("MNIST_")]:
        del os.environ[key]
    with tempfile.TemporaryDirectory() as scratch:
        executed = Path(scratch) / NOTEBOOK.name
        papermill.execute_notebook(NOTEBOOK, executed, cwd=NOTEBOOK.parent, log_output=True)
        clean_copy(executed, NOTEBOOK)
    print(f"wrote {NOTEBOOK.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
