"""Helpers shared by the tests and the benchmark scripts.

* ``run_tagged_cells`` runs chosen cells of the notebook (by tag) in this process, so that the unit tests
  call the notebook's own functions, not copies of them; ``edits`` changes a cell's code first, as a learner
  doing an exercise would. IPython syntax (``%pip``) is translated first.
* ``execute`` runs a whole notebook in a fresh kernel with nbclient, as papermill or nbval would.
* The environment (quick mode, a scratch output folder) is set by ``conftest.py`` at the repository root.
"""

from __future__ import annotations

import linecache
import os
from collections.abc import Iterable
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "mnist_cnn.ipynb"
SETUP_TAGS = ("parameters", "setup", "imports")
# The cells that lead to training, after the parameters cell: setup, data, preprocessing, model, augmentation.
BEFORE_TRAINING_TAGS = ("setup", "imports", "load-data", "load-call", "preprocess", "model", "augmentation")
Edit = tuple[str, str, str]  # (tag of the cell, text to replace, replacement)


def read_notebook(path: Path = NOTEBOOK) -> nbformat.NotebookNode:
    """The notebook without the outputs of its committed run."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def apply_edits(source: str, tags: Iterable[str], edits: Iterable[Edit], made: set | None = None) -> str:
    """``source`` with every edit for one of ``tags`` made where its text is; ``made`` collects those made."""
    for edit in edits:
        tag, old, new = edit
        if tag in tags and old in source:
            source = source.replace(old, new)
            if made is not None:
                made.add(edit)
    return source


def run_tagged_cells(*tags: str, namespace: dict | None = None, edits: Iterable[Edit] = ()) -> dict:
    """Execute, in order, the notebook's code cells that carry any of ``tags``; return their globals."""
    namespace = {} if namespace is None else namespace
    edits, made = list(edits), set()
    previous = Path.cwd()
    os.chdir(NOTEBOOK.parent)  # the notebook's paths are relative to notebooks/
    try:
        for index, cell in enumerate(read_notebook().cells):
            cell_tags = cell.metadata.get("tags", [])
            if cell.cell_type == "code" and set(tags) & set(cell_tags):
                source = TransformerManager().transform_cell(apply_edits(cell.source, cell_tags, edits, made))
                filename = f"{NOTEBOOK.name}:cell {index}"
                # Register the source as IPython does, for tracebacks and for tf.function's AutoGraph.
                linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
                exec(compile(source, filename, "exec"), namespace)
    finally:
        os.chdir(previous)
    missing = [edit for edit in edits if edit not in made]
    if missing:  # the notebook changed: the edit would silently do nothing
        raise ValueError(f"no cell tagged {missing[0][0]!r} holds {missing[0][1]!r}, so it cannot be changed")
    return namespace


def execute(notebook: nbformat.NotebookNode, cwd: Path, timeout: int = 900) -> nbformat.NotebookNode:
    """Run ``notebook`` top to bottom in a fresh kernel whose working directory is ``cwd``."""
    NotebookClient(notebook, timeout=timeout, resources={"metadata": {"path": str(cwd)}}).execute()
    return notebook
