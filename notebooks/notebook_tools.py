"""Tools to run the notebook's own cells, shared by the tests and the benchmarks.

The notebook is the product: tests and benchmarks run its tagged cells instead of copies of them.

* ``TAGS`` names every cell tag the notebook uses, and what the cells that carry it do; a tag that
  is not in it, or that no cell carries, is an error (a misspelled tag would otherwise run nothing).
* ``run_tagged_cells`` runs chosen cells in this process, so that callers use the notebook's own
  functions; ``edits`` changes a cell's code first, as a learner doing an exercise would.
* ``execute`` runs a whole notebook in a fresh kernel with nbclient, as papermill or nbval would.
* ``clean_copy`` writes an executed notebook as it is committed.
* ``TEST_SETTINGS`` are the tests' settings; ``output_root`` is where models/ and outputs/ go.

Import it from the repository root (``from notebooks.notebook_tools import ...``): pytest puts the
root on the path (``pythonpath`` in pyproject.toml), and the benchmarks run as modules (``python -m
benchmarks.compare``).
"""

from __future__ import annotations

import contextlib
import io
import linecache
import os
from collections.abc import Iterable
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "mnist_cnn.ipynb"
TWIN = NOTEBOOK.with_suffix(".py")  # its text twin (jupytext's py:percent)
# The settings of every run of the notebook that a test makes (conftest.py at the root sets them for
# pytest; .ci/compat.py and the browser test give them to the kernels they start): quick mode, one
# epoch on the first 6,000 training images.
TEST_SETTINGS = {"MNIST_QUICK": "1", "MNIST_EPOCHS": "1", "MNIST_TRAIN_SAMPLES": "6000"}

TAGS = {
    # Tags that tools read.
    "parameters": "the settings, which papermill overrides in a cell it inserts after this one",
    "nbval-ignore-output": "output that depends on training or on the machine: nbval runs the cell",
    # The notebook's own cells, in order.
    "setup": "applies the settings, starts Keras, prints versions and device, seeds",
    "imports": "the lesson's imports",
    "load-data": "load_mnist(): the checked local copy, or Keras's download",
    "load-call": "loads MNIST into train_images, train_labels, test_images, test_labels",
    "inspect": "shapes, types and value ranges of the data",
    "preprocess": "x_train, y_train, x_val, y_val, val_labels, x_test, y_test",
    "baseline": "the dense baseline, trained and scored on the validation images",
    "augmentation": "augmentation_layers(): the random shifts, turns and zooms",
    "model": "build_model(): the CNN, augmentation layers first",
    "schedule": "the learning-rate schedule",
    "sanity-check": "the untrained network's loss against ln 10",
    "train": "the training cells: the callback, then fit",
    "read-history": "the figures of the training history, and the loss floor",
    "evaluate": "the test accuracy",
    "metrics": "writes outputs/metrics.json",
    "model-files": "load_model_file(): loads .keras and .h5 files, with clear errors",
    "save-models": "saves the model as .keras and .h5 and loads both back",
    "annotate": "annotate_prediction(): OpenCV's picture of a prediction",
    "mistakes": "the validation mistakes with the highest scores",
    "look-inside": "section 15's functions: filters, feature maps, strongest responses, the map",
    "mnist-facts": "MNIST_CENTRE and MNIST_STROKE, measured on the training images",
    "prepare-digit": "prepare_digit() and its steps, and predict_digit()",
    "samples": "draw_samples(), show_steps(), show_prediction()",
    "plain-resize": "prepare_digit against a plain resize on the sample pictures",
    "my-digit": "the learner's own picture",
    "drawing-pad": "the drawing pad's implementation (collapsed cells)",
    "show-pad": "shows the drawing pad",
}
SETUP_TAGS = ("parameters", "setup", "imports")
DATA_TAGS = ("load-data", "load-call", "preprocess")
# The cells that define the network and its training, in the order they run.
TRAINING_TAGS = ("augmentation", "model", "schedule", "sanity-check", "train")
Edit = tuple[str, str, str]  # (tag of the cell, text to replace, replacement)


def output_root() -> Path:
    """Where models/ and outputs/ go, as the notebook's setup cell decides: MNIST_OUTPUT_ROOT, or
    else the repository."""
    return Path(os.environ.get("MNIST_OUTPUT_ROOT", ROOT)).resolve()


def read_notebook(path: Path = NOTEBOOK) -> nbformat.NotebookNode:
    """The notebook without the outputs of its committed run."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def tags_of(cell: nbformat.NotebookNode) -> list[str]:
    return cell.metadata.get("tags", [])


def cells_tagged(notebook: nbformat.NotebookNode, tag: str) -> list[int]:
    """The indices of the cells that carry ``tag``, which must be one of ``TAGS``."""
    if tag not in TAGS:
        raise ValueError(f"unknown cell tag {tag!r}: the notebook's tags are {sorted(TAGS)}")
    return [index for index, cell in enumerate(notebook.cells) if tag in tags_of(cell)]


def apply_edits(source: str, tags: Iterable[str], edits: Iterable[Edit], made: set) -> str:
    """``source`` with every edit for one of ``tags`` made where its text is; ``made`` collects
    them."""
    for edit in edits:
        tag, old, new = edit
        if tag in tags and old in source:
            source = source.replace(old, new)
            made.add(edit)
    return source


def run_tagged_cells(*tags: str, namespace: dict | None = None, edits: Iterable[Edit] = ()) -> dict:
    """Execute, in order, the notebook's code cells that carry any of ``tags``; return their
    globals.

    An unknown tag, a tag that no code cell carries, or an edit whose text is in no cell it names is
    an error: each would otherwise silently run or change nothing.
    """
    from IPython.core.inputtransformer2 import TransformerManager

    namespace = {} if namespace is None else namespace
    notebook, edits, made = read_notebook(), list(edits), set()
    for tag in tags:
        if not any(notebook.cells[i].cell_type == "code" for i in cells_tagged(notebook, tag)):
            raise ValueError(f"no code cell of the notebook is tagged {tag!r}")
    previous = Path.cwd()
    os.chdir(NOTEBOOK.parent)  # the notebook's paths are relative to notebooks/
    try:
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code" and set(tags) & set(tags_of(cell)):
                source = apply_edits(cell.source, tags_of(cell), edits, made)
                source = TransformerManager().transform_cell(source)
                filename = f"{NOTEBOOK.name}:cell {index}"
                # Register the source as IPython does, for tracebacks and for tf.function's
                # AutoGraph.
                linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
                exec(compile(source, filename, "exec"), namespace)
    finally:
        os.chdir(previous)
    missing = [edit for edit in edits if edit not in made]
    if missing:  # the notebook changed: the edit would silently do nothing
        tag, old, _ = missing[0]
        raise ValueError(f"no cell tagged {tag!r} holds {old!r}, so it cannot be changed")
    return namespace


def execute(
    notebook: nbformat.NotebookNode, cwd: Path, timeout: int = 900
) -> nbformat.NotebookNode:
    """Run ``notebook`` top to bottom in a fresh kernel whose working directory is ``cwd``."""
    from nbclient import NotebookClient

    NotebookClient(notebook, timeout=timeout, resources={"metadata": {"path": str(cwd)}}).execute()
    return notebook


def clean_copy(executed: Path, target: Path) -> None:
    """The executed notebook as it is committed: papermill's metadata removed, as `jupyter
    nbconvert --execute` leaves it, and the drawing pad's widget view reduced to its text (with no
    kernel behind it, JupyterLab would show "Error displaying widget" instead)."""
    notebook = nbformat.read(executed, as_version=4)
    notebook.metadata = {key: notebook.metadata[key] for key in ("kernelspec", "language_info")}
    for cell in notebook.cells:
        cell.metadata = {
            key: cell.metadata[key]
            for key in ("tags", "jupyter", "cellView")
            if key in cell.metadata
        }
        for output in cell.get("outputs", []):
            output.get("data", {}).pop("application/vnd.jupyter.widget-view+json", None)
    nbformat.write(notebook, target)


def notebook_settings(quick: bool) -> dict:
    """The settings a run of the notebook uses by default in quick or in full mode (its parameters
    and setup cells, with the MNIST_* environment variables ignored)."""
    saved = {key: os.environ.pop(key) for key in list(os.environ) if key.startswith("MNIST_")}
    try:
        namespace = run_tagged_cells("parameters")
        namespace["QUICK"] = quick
        with contextlib.redirect_stdout(
            io.StringIO()
        ):  # the versions and the device: not asked for
            run_tagged_cells("setup", namespace=namespace)
    finally:
        os.environ.update(saved)
    names = ("EPOCHS", "TRAIN_SAMPLES", "BATCH_SIZE", "VALIDATION_SPLIT", "LABEL_SMOOTHING", "SEED")
    return {name: namespace[name] for name in names}
