"""Whole-notebook behaviour that nbval's cell-by-cell comparison does not cover.

Each test runs the notebook in a fresh kernel (quick mode, see conftest.py at the root), as a
learner, Colab or papermill would, and checks one promise the notebook makes.
(test_notebook_shape.py reads the committed notebook without running it.)
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from notebooks.notebook_tools import (
    NOTEBOOK,
    ROOT,
    cells_tagged,
    execute,
    output_root,
    read_notebook,
    tags_of,
)
from tests.helpers import fail_or_skip

pytestmark = pytest.mark.kernel
IGNORE = "nbval-ignore-output"


def text_of(outputs: list) -> list[str]:
    """What a reader sees of a cell's outputs as text (streams, and the text of rich outputs). A
    stream's text may arrive in one output or several, depending on timing: consecutive pieces count
    as one."""
    texts, stream = [], None  # stream: the name of the stream that the last text came from, if any
    for output in outputs:
        if output.output_type == "stream" and output.name == stream:
            texts[-1] += output.text
        elif output.output_type == "stream":
            texts.append(f"{output.name}: {output.text}")
        elif output.output_type in ("display_data", "execute_result"):
            texts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            texts.append(f"error: {output.ename}: {output.evalue}")
        stream = output.name if output.output_type == "stream" else None
    return texts


def errors_in(notebook: nbformat.NotebookNode) -> list[str]:
    """Error and stderr outputs of every cell, with the start of the cell's source."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "error" or output.get("name") == "stderr":
                found.append(f"{cell.source[:50]!r}: {text_of([output])}")
    return found


def without_timings(texts: list[str]) -> list[str]:
    """Keras's progress lines without the seconds they took."""
    return [re.sub(r"\d+m?s/step|\d+s\b|in \d+ s", "…", text) for text in texts]


def test_every_code_cell_can_run_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run, run again, next cell: as a learner does. Nothing may fail, and what the strictly checked
    cells print (shapes, dtypes, counts, value ranges, parameter counts) must not change the second
    time. Training twice from the same seed on a CPU gives the same model: the same losses and
    accuracies epoch by epoch, and the same test figures when the first model is evaluated as when
    the second one is."""
    monkeypatch.setenv("MNIST_EPOCHS", "1")  # the training cell runs twice too: one epoch each
    notebook = read_notebook()
    (evaluation,) = cells_tagged(notebook, "evaluate")
    client = NotebookClient(
        notebook, timeout=900, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    changed, ran = [], 0
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            training = "train" in tags_of(cell) and IGNORE in tags_of(cell)
            client.execute_cell(cell, index)  # raises CellExecutionError if the cell fails
            first = copy.deepcopy(cell.outputs)
            if training:  # evaluate the first model now, before the cell trains the second
                client.execute_cell(notebook.cells[evaluation], evaluation)
                first_evaluation = text_of(notebook.cells[evaluation].outputs)
            client.execute_cell(cell, index)
            ran += 1
            if IGNORE not in tags_of(cell) and text_of(first) != text_of(cell.outputs):
                changed.append(f"cell {index}: {text_of(first)} != {text_of(cell.outputs)}")
            if training and without_timings(text_of(first)) != without_timings(
                text_of(cell.outputs)
            ):
                changed.append(f"training: {text_of(first)} != {text_of(cell.outputs)}")
    assert ran == sum(cell.cell_type == "code" for cell in notebook.cells)  # every code cell ran
    assert not changed, "\n".join(changed)
    assert not errors_in(notebook)
    assert text_of(notebook.cells[evaluation].outputs) == first_evaluation
    assert "test accuracy" in first_evaluation[0]
    if not os.path.exists("/proc/driver/nvidia") and not shutil.which("nvidia-smi"):
        report = "".join(setup_report(notebook))
        assert "device: no GPU found, training on the CPU" in report and "CUDA" not in report


def setup_report(notebook: nbformat.NotebookNode) -> list[str]:
    """What the setup cells printed: the versions and the device."""
    return [
        text for i in cells_tagged(notebook, "setup") for text in text_of(notebook.cells[i].outputs)
    ]


def test_notebook_runs_alone_in_an_empty_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Colab's situation: the notebook alone in a fresh working directory, no data/, no
    data/samples/, MNIST from keras.datasets.mnist.load_data(). There is no internet here, so a cell
    inserted after the setup replaces that download (and only it) with the project's arrays. One
    epoch: EPOCHS = 1 works."""
    monkeypatch.delenv("MNIST_OUTPUT_ROOT")  # as in Colab: everything goes to the working directory
    monkeypatch.setenv("MNIST_EPOCHS", "1")
    notebook = read_notebook()
    (loading,) = cells_tagged(notebook, "load-call")
    fake_download = nbformat.v4.new_code_cell(
        "def _fake_download():\n"
        f"    with np.load({str(ROOT / 'data' / 'mnist.npz')!r}) as data:\n"
        "        return (data['x_train'], data['y_train']), (data['x_test'], data['y_test'])\n"
        "keras.datasets.mnist.load_data = _fake_download"
    )
    notebook.cells.insert(loading, fake_download)
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)  # only the notebook, as uploaded to Colab

    execute(notebook, cwd=tmp_path)

    assert not errors_in(notebook)
    printed = "\n".join(t for cell in notebook.cells for t in text_of(cell.get("outputs", [])))
    assert "data/mnist.npz not found: downloading it with keras.datasets.mnist" in printed
    assert "10 sample pictures in outputs/samples" in printed
    assert "for 1 epoch in" in printed
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [
        "mnist_cnn.h5",
        "mnist_cnn.keras",
    ]
    assert len(list((tmp_path / "outputs" / "samples").glob("*.png"))) == 10
    metrics = json.loads((tmp_path / "outputs" / "metrics.json").read_text())
    assert metrics["parameters"]["epochs"] == 1 and len(metrics["history"]) == 1
    assert (
        metrics["test_accuracy"] > 0.9
    )  # one epoch on 6,000 images (conftest.py) reads most digits


BLOCK_TENSORFLOW = textwrap.dedent(
    """
    import sys

    class NoTensorFlow:
        def find_spec(self, name, path=None, target=None):
            if name == "tensorflow" or name.startswith("tensorflow."):
                raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)",
                name=name)
            return None

    sys.meta_path.insert(0, NoTensorFlow())
    """
)


def test_notebook_runs_on_jax_without_tensorflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keras 3's JAX backend runs the whole notebook with TensorFlow not importable at all: a kernel
    whose interpreter starts with a meta-path finder that refuses `import tensorflow`
    (sitecustomize.py on the PYTHONPATH that the kernel inherits). A None in sys.modules would not
    do: Keras checks whether "tensorflow" in sys.modules."""
    try:
        import jax  # noqa: F401
    except ImportError:
        fail_or_skip("jax is in requirements-dev.txt; install it to check the JAX backend")
    (tmp_path / "sitecustomize.py").write_text(BLOCK_TENSORFLOW)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setenv("MNIST_EPOCHS", "1")
    notebook = read_notebook()
    probe = nbformat.v4.new_code_cell(
        "import importlib.util, sys\n"
        "try:\n    import tensorflow\n"
        "except ModuleNotFoundError as error:\n    print('blocked:', error)\n"
        "print('tensorflow loaded:', 'tensorflow' in sys.modules)"
    )
    notebook.cells.append(probe)
    execute(notebook, cwd=NOTEBOOK.parent)
    assert not errors_in(notebook)
    printed = "".join(text_of(probe.outputs))
    assert (
        "blocked: No module named 'tensorflow'" in printed and "tensorflow loaded: False" in printed
    )
    metrics = json.loads((output_root() / "outputs" / "metrics.json").read_text())
    assert metrics["versions"]["backend"] == "jax" and "tensorflow" not in metrics["versions"]
    assert metrics["test_accuracy"] > 0.9


def test_notebook_stops_on_a_corrupted_data_file(tmp_path: Path) -> None:
    """A project whose data/mnist.npz is damaged: the notebook must stop at loading, saying why."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "data").mkdir()
    data = bytearray((ROOT / "data" / "mnist.npz").read_bytes())
    data[123_456] ^= 0x01  # a single flipped bit
    (tmp_path / "data" / "mnist.npz").write_bytes(bytes(data))
    notebook = read_notebook()
    with pytest.raises(CellExecutionError) as caught:
        execute(notebook, cwd=tmp_path / "notebooks", timeout=300)
    message = str(caught.value)
    assert "ValueError" in message and "failed its checksum" in message
    assert "expected SHA-256" in message
    # It stopped at the loading cell: nothing after it ran, so no model was trained on broken data.
    (loading,) = cells_tagged(notebook, "load-call")
    assert all(cell.get("execution_count") is None for cell in notebook.cells[loading + 1 :])
