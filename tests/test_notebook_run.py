"""Whole-notebook behaviour that nbval's cell-by-cell comparison does not cover.

Each test runs the notebook in a fresh kernel (quick mode, see conftest.py at the root), as a learner,
Colab or papermill would, and checks one promise the notebook makes.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import shutil
from pathlib import Path

import cv2
import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from notebook_helpers import NOTEBOOK, ROOT, execute, read_notebook

IGNORE = "nbval-ignore-output"


def text_of(outputs: list) -> list[str]:
    """What a reader sees of a cell's outputs as text (streams, and the text of rich outputs). A stream's
    text may arrive in one output or several, depending on timing: consecutive pieces count as one."""
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
    """Run, run again, next cell: as a learner does. Nothing may fail, and what the strictly checked cells
    print (shapes, dtypes, counts, value ranges, parameter counts) must not change the second time. Training
    twice from the same seed on a CPU gives the same model: the same losses and accuracies epoch by epoch,
    and the same test figures when the first model is evaluated as when the second one is."""
    monkeypatch.setenv("MNIST_EPOCHS", "1")  # the training cell runs twice too: one epoch each
    notebook = read_notebook()
    evaluation = next(i for i, c in enumerate(notebook.cells) if "evaluate" in c.metadata.get("tags", []))
    client = NotebookClient(notebook, timeout=900, resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    changed, ran = [], 0
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            training = "train" in cell.metadata.get("tags", []) and IGNORE in cell.metadata.get("tags", [])
            client.execute_cell(cell, index)  # raises CellExecutionError if the cell fails
            first = copy.deepcopy(cell.outputs)
            if training:  # evaluate the first model now, before the cell trains the second
                client.execute_cell(notebook.cells[evaluation], evaluation)
                first_evaluation = text_of(notebook.cells[evaluation].outputs)
            client.execute_cell(cell, index)
            ran += 1
            if IGNORE not in cell.metadata.get("tags", []) and text_of(first) != text_of(cell.outputs):
                changed.append(f"cell {index}: {text_of(first)} != {text_of(cell.outputs)}")
            if training and without_timings(text_of(first)) != without_timings(text_of(cell.outputs)):
                changed.append(f"training: {text_of(first)} != {text_of(cell.outputs)}")
    assert ran > 50
    assert not changed, "\n".join(changed)
    assert not errors_in(notebook)
    assert text_of(notebook.cells[evaluation].outputs) == first_evaluation
    assert "test accuracy" in first_evaluation[0]
    if not os.path.exists("/proc/driver/nvidia") and not shutil.which("nvidia-smi"):
        report = "".join(text_of(notebook.cells[device_cell(notebook)].outputs))
        assert "device: no GPU found, training on the CPU" in report and "CUDA" not in report


def device_cell(notebook: nbformat.NotebookNode) -> int:
    return next(i for i, c in enumerate(notebook.cells) if "print the versions and the device" in c.source)


def test_notebook_runs_alone_in_an_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Colab's situation: the notebook alone in a fresh working directory, no data/, no data/samples/,
    MNIST from keras.datasets.mnist.load_data(). There is no internet here, so a cell inserted after the
    setup replaces that download (and only it) with the project's arrays. One epoch: EPOCHS = 1 works."""
    monkeypatch.delenv("MNIST_OUTPUT_ROOT")  # as in Colab: everything goes to the working directory
    monkeypatch.setenv("MNIST_EPOCHS", "1")
    notebook = read_notebook()
    loading = next(i for i, cell in enumerate(notebook.cells) if "load-call" in cell.metadata.get("tags", []))
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
    assert "data/mnist.npz not found: downloading MNIST" in printed
    assert "10 sample pictures in outputs/samples" in printed
    assert "for 1 epoch in" in printed
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["mnist_cnn.h5", "mnist_cnn.keras"]
    assert len(list((tmp_path / "outputs" / "samples").glob("*.png"))) == 10
    metrics = json.loads((tmp_path / "outputs" / "metrics.json").read_text())
    assert metrics["parameters"]["epochs"] == 1 and len(metrics["history"]) == 1
    assert metrics["test_accuracy"] > 0.9  # one epoch on 6,000 images (conftest.py) reads most digits


def test_notebook_runs_on_jax(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keras 3's JAX backend runs the same notebook (TensorFlow still feeds the data through tf.data)."""
    try:
        import jax  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("jax is missing; CI=true, so this is a failure, not a skip (requirements-dev.txt)")
        pytest.skip("jax is in requirements-dev.txt; install it to check the JAX backend")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setenv("MNIST_EPOCHS", "1")
    notebook = execute(read_notebook(), cwd=NOTEBOOK.parent)
    assert not errors_in(notebook)
    metrics = json.loads((Path(os.environ["MNIST_OUTPUT_ROOT"]) / "outputs" / "metrics.json").read_text())
    assert metrics["versions"]["backend"] == "jax"
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
    loading = next(i for i, cell in enumerate(notebook.cells) if "load-call" in cell.metadata.get("tags", []))
    assert all(cell.get("execution_count") is None for cell in notebook.cells[loading + 1 :])


def test_no_code_cell_is_longer_than_a_screen() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = {index: cell for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"}
    too_long = {index: len(cell.source.splitlines()) for index, cell in code.items()}
    too_long = {index: lines for index, lines in too_long.items() if lines > 40}
    assert not too_long, f"code cells over 40 lines (cell index: lines): {too_long}"


def test_notebook_metadata_is_clean() -> None:
    """Clean metadata, collapsed cells marked for every notebook app, no error or stderr output, nothing
    alarming, and the drawing pad stored as its text (a widget view with no kernel behind it shows
    JupyterLab's "Error displaying widget")."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert set(notebook.metadata) <= {"kernelspec", "language_info"}
    for cell in notebook.cells:
        assert set(cell.metadata) <= {"tags", "jupyter", "cellView"}, cell.source[:60]
        hidden = cell.metadata.get("jupyter", {}).get("source_hidden", False)
        assert hidden == (cell.metadata.get("cellView") == "form") == cell.source.startswith("# @title ")
        if cell.cell_type == "code":
            for output in cell.outputs:
                assert output.output_type != "error"
                assert output.get("name") != "stderr", f"stderr output in: {cell.source[:60]}"
                assert "application/vnd.jupyter.widget-view+json" not in output.get("data", {})
                assert "CUDA" not in "".join(text_of([output])), cell.source[:60]
    (pad,) = [c for c in notebook.cells if "show-pad" in c.metadata.get("tags", [])]
    assert "drawing pad" in pad.outputs[0].data["text/plain"]


def visible_lines(cell: nbformat.NotebookNode) -> int:
    """Lines of code a reader sees in a code cell that is not collapsed (blank lines not counted)."""
    if cell.cell_type != "code" or cell.metadata.get("jupyter", {}).get("source_hidden"):
        return 0
    return sum(1 for line in cell.source.splitlines() if line.strip())


def test_a_learner_reads_at_most_40_lines_of_code_before_the_first_digit() -> None:
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    first_picture = next(i for i, c in enumerate(cells) if c.cell_type == "code" and "imshow" in c.source)
    assert "train_images[i]" in cells[first_picture].source  # a picture of digits from the data
    assert sum(visible_lines(c) for c in cells[:first_picture]) <= 40
    first_code = next(c for c in cells if c.cell_type == "code" and not c.metadata.get("jupyter"))
    assert "parameters" in first_code.metadata["tags"]


def sections(cells: list) -> dict[str, list]:
    """The cells under each "## " heading: by number for "## N. Title", else by the heading's text."""
    found, current = {}, None
    for cell in cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            heading = cell.source.splitlines()[0]
            number = re.match(r"## (\d+)\. ", heading)
            current = number.group(1) if number else heading
        found.setdefault(current, []).append(cell)
    return found


def test_your_own_digit_is_no_longer_than_the_core_lesson() -> None:
    """Section 14's visible code is at most as long as that of sections 5 to 9 (preprocess to evaluate)."""
    by_section = sections(nbformat.read(NOTEBOOK, as_version=4).cells)
    assert by_section["14"][0].source.startswith("## 14. Try your own handwritten digit")
    own = sum(visible_lines(c) for c in by_section["14"])
    core = sum(visible_lines(c) for n in "56789" for c in by_section[n])
    assert 0 < own <= core, (own, core)


def test_the_pads_picture_travels_with_the_notebook() -> None:
    """The picture of the pad is an attachment of a markdown cell (so GitHub and Colab show it), a PNG that
    decodes, and the same picture as the README's."""
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    (cell,) = [c for c in cells if "attachment:drawing_pad.png" in c.source]
    assert cell.cell_type == "markdown"
    png = base64.b64decode(cell.attachments["drawing_pad.png"]["image/png"])
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[0] > 200 and image.shape[1] > 400
    assert png == (ROOT / "docs" / "drawing_pad.png").read_bytes()


def test_committed_notebook_was_run_top_to_bottom() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    counts = [cell.execution_count for cell in notebook.cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))
