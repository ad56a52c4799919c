"""Whole-notebook behaviour that nbval's cell-by-cell comparison does not cover."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "mnist_cnn.ipynb"


def test_notebook_stops_on_a_corrupted_data_file(tmp_path: Path) -> None:
    """A project whose data/mnist.npz is damaged: the notebook must stop at loading, saying why."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "data").mkdir()
    data = bytearray((ROOT / "data" / "mnist.npz").read_bytes())
    data[123_456] ^= 0x01  # a single flipped bit
    (tmp_path / "data" / "mnist.npz").write_bytes(bytes(data))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:  # forget the committed run's outputs
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(
        notebook, timeout=300, resources={"metadata": {"path": str(tmp_path / "notebooks")}}
    )
    with pytest.raises(CellExecutionError) as caught:
        client.execute()
    message = str(caught.value)
    assert "ValueError" in message and "failed its checksum" in message
    assert "expected SHA-256" in message
    # It stopped at the loading cell: nothing after it ran, so no model was trained on broken data.
    loading = next(i for i, cell in enumerate(notebook.cells) if "= load_mnist()" in cell.source)
    assert all(cell.get("execution_count") is None for cell in notebook.cells[loading + 1 :])


def test_notebook_metadata_is_clean() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert set(notebook.metadata) <= {"kernelspec", "language_info"}
    for cell in notebook.cells:
        assert set(cell.metadata) <= {"tags"}, cell.source[:60]
        if cell.cell_type == "code":
            for output in cell.outputs:
                assert output.output_type != "error"
                assert output.get("name") != "stderr", f"stderr output in: {cell.source[:60]}"


def test_committed_notebook_was_run_top_to_bottom() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    counts = [cell.execution_count for cell in notebook.cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))


def test_benchmark_writes_its_fields(tmp_path: Path) -> None:
    """A smoke run of benchmarks/compare.py (1 reference epoch, quick notebook): the output's shape only."""
    env = dict(os.environ, MNIST_OUTPUT_ROOT=str(tmp_path))
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compare.py"), "--quick"], env=env, check=True)
    result = json.loads((tmp_path / "outputs" / "benchmark.json").read_text())
    for name in ("reference", "notebook"):
        row = result[name]
        assert 0.0 <= row["test_accuracy"] <= 1.0
        for key in ("train_seconds", "images_per_second", "latency_ms"):
            assert row[key] > 0
        assert isinstance(row["epochs"], int) and isinstance(row["params"], int)
    assert result["reference"]["params"] == 34_826
    assert result["reference"]["epochs"] == 1
    assert result["notebook"]["test_accuracy"] > 0.9  # even the quick notebook run learns
    assert (tmp_path / "models" / "mnist_cnn.keras").is_file()
