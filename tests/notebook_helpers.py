"""Helpers shared by the tests.

* ``run_tagged_cells`` runs chosen cells of the notebook (by tag) in this process, so that the unit tests
  call the notebook's own functions, not copies of them. IPython syntax (``%pip``) is translated first.
* ``execute`` runs a whole notebook in a fresh kernel with nbclient, as papermill or nbval would.
* The environment (quick mode, a scratch output folder) is set by ``conftest.py`` at the repository root.
"""

from __future__ import annotations

import linecache
import os
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "mnist_cnn.ipynb"
SETUP_TAGS = ("imports", "parameters", "config")


def read_notebook(path: Path = NOTEBOOK) -> nbformat.NotebookNode:
    """The notebook without the outputs of its committed run."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def run_tagged_cells(*tags: str, namespace: dict | None = None) -> dict:
    """Execute, in order, the notebook's code cells that carry any of ``tags``; return their globals."""
    namespace = {} if namespace is None else namespace
    previous = Path.cwd()
    os.chdir(NOTEBOOK.parent)  # the notebook's paths are relative to notebooks/
    try:
        for index, cell in enumerate(read_notebook().cells):
            if cell.cell_type == "code" and set(tags) & set(cell.metadata.get("tags", [])):
                source = TransformerManager().transform_cell(cell.source)
                filename = f"{NOTEBOOK.name}:cell {index}"
                # Register the source as IPython does, for tracebacks and for tf.function's AutoGraph.
                linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
                exec(compile(source, filename, "exec"), namespace)
    finally:
        os.chdir(previous)
    return namespace


def execute(notebook: nbformat.NotebookNode, cwd: Path, timeout: int = 900) -> nbformat.NotebookNode:
    """Run ``notebook`` top to bottom in a fresh kernel whose working directory is ``cwd``."""
    NotebookClient(notebook, timeout=timeout, resources={"metadata": {"path": str(cwd)}}).execute()
    return notebook
