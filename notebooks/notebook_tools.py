"""Tools to run the notebook's own cells, shared by the tests and the benchmarks.

The notebook is the product: tests and benchmarks run its tagged cells instead of copies of them.

* ``TAGS`` names every cell tag the notebook uses, what the cells that carry it do, and which tags
  they need; a tag that is not in it, or that no cell carries, is an error (a misspelled tag would
  otherwise run nothing).
* ``run_tagged_cells`` runs chosen cells in this process, and first the cells they need, so that
  callers use the notebook's own functions; ``edits`` changes a cell's code first, as a learner
  doing an exercise would.
* ``execute`` runs a whole notebook in a fresh kernel with nbclient, as papermill or nbval would.
* ``clean_copy`` writes an executed notebook as it is committed.
* ``TEST_SETTINGS`` are the tests' settings; ``output_root`` is where models/ and outputs/ go.

Import it from the repository root (``from notebooks.notebook_tools import ...``): pytest puts the
root on the path (``pythonpath`` in pyproject.toml), and the benchmarks run as modules (``python -m
benchmarks.compare``).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
import linecache
import os
import symtable
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "mnist_cnn.ipynb"
TWIN = NOTEBOOK.with_suffix(".py")  # its text twin (jupytext's py:percent)
# The settings of every run of the notebook that a test makes (conftest.py at the root sets them for
# pytest; .ci/compat.py and the browser test give them to the kernels they start): quick mode, one
# epoch on the first 6,000 training images.
TEST_SETTINGS = {"MNIST_QUICK": "1", "MNIST_EPOCHS": "1", "MNIST_TRAIN_SAMPLES": "6000"}


class Tag(NamedTuple):
    """A cell tag: what the cells that carry it do, and the tags whose cells bind names that these
    cells read (``run_tagged_cells`` runs those first when the namespace lacks them)."""

    does: str
    needs: tuple[str, ...] = ()


TAGS = {
    # Tags that tools read.
    "parameters": Tag("the settings; papermill overrides them in a cell it inserts after this one"),
    "nbval-ignore-output": Tag("output that depends on training or the machine: nbval runs it"),
    # The notebook's own cells, in order. A tag needs the tags whose cells bind what its cells read
    # (tests/test_notebook_tools.py checks); what only untagged cells bind is the caller's to give.
    "setup": Tag("applies the settings, starts Keras, prints versions and device", ("parameters",)),
    "imports": Tag("the lesson's imports, once the setup has started Keras quietly", ("setup",)),
    "load-data": Tag("load_mnist(): the checked local copy, or Keras's download", ("imports",)),
    "load-call": Tag("loads train_images, train_labels, test_images, test_labels", ("load-data",)),
    "inspect": Tag("shapes, types and value ranges of the data", ("load-call",)),
    "preprocess": Tag("x_train, y_train, x_val, y_val, val_labels, x_test, y_test", ("load-call",)),
    "baseline": Tag("the dense baseline, trained and scored on x_val", ("preprocess",)),
    "augmentation": Tag("augmentation_layers(): the random shifts, turns and zooms", ("imports",)),
    "model": Tag("build_model(): the CNN, augmentation layers first", ("augmentation",)),
    "schedule": Tag("the learning-rate schedule", ("preprocess",)),
    "sanity-check": Tag("the untrained network's loss against ln 10", ("model", "preprocess")),
    "train": Tag("the training cells: the callback, then fit", ("model", "schedule")),
    "read-history": Tag("the history's figures, and the loss floor", ("baseline", "train")),
    "evaluate": Tag("the test accuracy", ("train",)),
    "metrics": Tag("writes outputs/metrics.json", ("read-history", "evaluate")),
    "model-files": Tag("load_model_file(): .keras and .h5 files, with clear errors", ("setup",)),
    "save-models": Tag("saves the model, .keras and .h5, and loads both", ("model-files", "train")),
    "annotate": Tag("annotate_prediction(): OpenCV's picture of a prediction", ("imports",)),
    # Also val_predictions and val_probabilities, from an untagged cell before it.
    "mistakes": Tag("the validation mistakes with the highest scores", ("preprocess",)),
    "occlusion": Tag("occlusion() and heat_picture(): section 18's heat maps", ("imports",)),
    "look-inside": Tag("filters, feature maps, strongest responses, the map", ("imports",)),
    "mnist-facts": Tag("MNIST_CENTRE and MNIST_STROKE, measured", ("load-call", "annotate")),
    "prepare-digit": Tag("prepare_digit() and its steps, and predict_digit()", ("mnist-facts",)),
    "samples": Tag("draw_samples(), show_steps(), show_prediction()", ("prepare-digit",)),
    # Also sample_paths, from an untagged cell before it.
    "plain-resize": Tag("prepare_digit against a plain resize", ("prepare-digit", "train")),
    "my-digit": Tag("the learner's own picture", ("samples", "train")),
    "drawing-pad": Tag(
        "the drawing pad's code, collapsed", ("look-inside", "occlusion", "prepare-digit")
    ),
    # Also features, learned and projections, from the look inside's untagged cells.
    "show-pad": Tag("shows the drawing pad", ("drawing-pad", "train")),
}
# The cells that define the network and its training, in the order they run.
TRAINING_TAGS = ("augmentation", "model", "schedule", "sanity-check", "train")
# An edit of a cell: (its tag, a text in it, what replaces the text). A text that is one whole line,
# its newline included, is found whatever the line's indentation, and the replacement's lines take
# that indentation: ("model", "layers.ReLU(),\n", "") deletes the line wherever it is indented.
Edit = tuple[str, str, str]


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


def code_of(cell: nbformat.NotebookNode, source: str | None = None) -> str:
    """A code cell's source (or ``source``) as Python: IPython's magics and shell escapes turned
    into the calls that run them."""
    return python_of(cell.source if source is None else source)


@functools.cache
def python_of(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


@functools.cache
def names_of(code: str) -> tuple[frozenset[str], frozenset[str]]:
    """The global names that ``code`` reads (at its top level, or in its functions when they run),
    and those it binds at its top level."""
    module = symtable.symtable(code, "cell", "exec")
    binds = {s.get_name() for s in module.get_symbols() if s.is_assigned() or s.is_imported()}
    binds |= {s.get_name() for s in module.get_symbols() if s.is_namespace()}  # def, class
    reads, scopes = set(), [module]
    while scopes:
        scope = scopes.pop()
        scopes.extend(scope.get_children())
        top = scope.get_type() == "module"
        for symbol in scope.get_symbols():
            global_read = symbol.is_global() and not symbol.is_assigned()
            if symbol.is_referenced() and (top or global_read):
                reads.add(symbol.get_name())
    return frozenset(reads), frozenset(binds)


@functools.cache
def bound_names(code: str) -> frozenset[str]:
    """The names that ``code`` always binds: in the statements at its top level (not in an if, a
    loop, a with or a try, which may bind them or not)."""
    names = set()
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Assign, ast.AugAssign)) or (
            isinstance(node, ast.AnnAssign) and node.value is not None
        ):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(
                name.id
                for target in targets
                for name in ast.walk(target)
                if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store)
            )
    return frozenset(names)


def needs_of(
    tags: Iterable[str], met: Callable[[str, str], bool] = lambda tag, need: False
) -> set[str]:
    """``tags`` and the tags that they need (``TAGS``), directly or through another, except where
    ``met(tag, need)`` says that what ``tag`` needs of ``need`` is there already."""
    chosen, pending = set(tags), list(tags)
    while pending:
        tag = pending.pop()
        for need in TAGS[tag].needs:
            if need not in chosen and not met(tag, need):
                chosen.add(need)
                pending.append(need)
    return chosen


def cells_to_run(
    notebook: nbformat.NotebookNode, tags: Iterable[str], namespace: dict
) -> list[int]:
    """The indices of the code cells that ``run_tagged_cells(*tags)`` runs in ``namespace``, in
    order: those of ``tags``, and those of every tag they need that is not met. A tag's need is met
    when the namespace holds the names that its cells read and the needed cells always bind (or,
    where they read none, every name that the needed cells always bind)."""
    code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]

    def sources(tag: str) -> list[str]:
        return [code_of(notebook.cells[i]) for i in cells_tagged(notebook, tag) if i in code]

    def met(tag: str, need: str) -> bool:
        reads = set().union(*(names_of(source)[0] for source in sources(tag)))
        reads -= set().union(*(names_of(source)[1] for source in sources(tag)))
        binds = set().union(*(bound_names(source) for source in sources(need)))
        names = reads & binds or binds
        return bool(names) and names <= namespace.keys()

    chosen = needs_of(tags, met)
    return [i for i in code if chosen & set(tags_of(notebook.cells[i]))]


def edited(source: str, old: str, new: str) -> str | None:
    """``source`` with ``old`` replaced by ``new`` (see ``Edit``), or None where ``old`` is not in
    it."""
    if not (old.endswith("\n") and old.count("\n") == 1):
        return source.replace(old, new) if old in source else None
    lines, found = source.splitlines(keepends=True), False
    for index, line in enumerate(lines):
        if line.strip() == old.strip():
            indent = line[: len(line) - len(line.lstrip())]
            lines[index] = "".join(indent + part for part in new.splitlines(keepends=True))
            found = True
    return "".join(lines) if found else None


def apply_edits(source: str, tags: Iterable[str], edits: Iterable[Edit], made: set) -> str:
    """``source`` with every edit for one of ``tags`` made where its text is; ``made`` collects
    them."""
    for edit in edits:
        tag, old, new = edit
        changed = edited(source, old, new) if tag in tags else None
        if changed is not None:
            source = changed
            made.add(edit)
    return source


def run_tagged_cells(*tags: str, namespace: dict | None = None, edits: Iterable[Edit] = ()) -> dict:
    """Execute the notebook's code cells that carry any of ``tags``, after those of the tags they
    need (``TAGS``) that ``namespace`` lacks; each cell once, in the notebook's order. Return the
    namespace, their globals.

    A needed tag is skipped when the namespace holds what is read of it (``cells_to_run``), as after
    a run of its cells: so a setting changed after the parameters cell, as papermill injects one,
    stays. A tag in ``tags`` always runs. An unknown tag, a tag that no code cell carries, or an
    edit whose text is in no cell that runs is an error: each would otherwise silently run or change
    nothing.
    """
    namespace = {} if namespace is None else namespace
    notebook, edits, made = read_notebook(), list(edits), set()
    for tag in tags:
        if not any(notebook.cells[i].cell_type == "code" for i in cells_tagged(notebook, tag)):
            raise ValueError(f"no code cell of the notebook is tagged {tag!r}")
    chosen = cells_to_run(notebook, tags, namespace)
    previous = Path.cwd()
    os.chdir(NOTEBOOK.parent)  # the notebook's paths are relative to notebooks/
    try:
        for index in chosen:
            cell = notebook.cells[index]
            source = code_of(cell, apply_edits(cell.source, tags_of(cell), edits, made))
            filename = f"{NOTEBOOK.name}:cell {index}"
            # Register the source as IPython does, for tracebacks and for tf.function's AutoGraph.
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            exec(compile(source, filename, "exec"), namespace)
    finally:
        os.chdir(previous)
    missing = [edit for edit in edits if edit not in made]
    if missing:  # the notebook changed, or the cell does not run: the edit would do nothing
        tag, old, _ = missing[0]
        ran = {tag for index in chosen for tag in tags_of(notebook.cells[index])}
        if tag not in ran:
            raise ValueError(
                f"the cells tagged {tag!r} do not run (the namespace holds what they give), so "
                f"{old!r} cannot be changed in them: name {tag!r} among the tags to run"
            )
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
            if cell.metadata.get(key)  # papermill gives untagged cells an empty list of tags
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
