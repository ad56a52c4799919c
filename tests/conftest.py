"""Shared test set-up.

* nbval re-runs ``notebooks/mnist_cnn.ipynb`` in quick mode, writing its models and pictures to a
  temporary folder instead of the project's ``models/`` and ``outputs/``. Both variables are set here,
  at import time, before nbval starts the notebook's kernel (which inherits them).
* ``notebook_functions`` runs chosen cells of the notebook (by tag) in this process, so the unit tests
  call the notebook's own functions, not copies of them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "mnist_cnn.ipynb"

os.environ["MNIST_QUICK"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if "MNIST_OUTPUT_ROOT" not in os.environ:
    _scratch = tempfile.TemporaryDirectory(prefix="mnist-nbval-")  # removed when pytest exits
    os.environ["MNIST_OUTPUT_ROOT"] = _scratch.name


def run_tagged_cells(*tags: str) -> dict:
    """Execute, in order, the notebook's code cells that carry any of ``tags``; return their globals."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    namespace: dict = {}
    previous = Path.cwd()
    os.chdir(NOTEBOOK.parent)  # the notebook's paths are relative to notebooks/
    try:
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code" and set(tags) & set(cell.metadata.get("tags", [])):
                exec(compile(cell.source, f"{NOTEBOOK.name}:cell {index}", "exec"), namespace)
    finally:
        os.chdir(previous)
    return namespace


@pytest.fixture(scope="session")
def notebook_functions() -> dict:
    return run_tagged_cells(
        "imports", "parameters", "config", "load-data", "model-files", "annotate", "prepare-digit"
    )
