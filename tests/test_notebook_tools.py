"""notebooks/notebook_tools.py, which the tests and the benchmarks share: where outputs go."""

from __future__ import annotations

from pathlib import Path

import pytest

from notebooks.notebook_tools import ROOT, output_root


def test_outputs_go_to_mnist_output_root_or_else_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the notebook's setup cell decides for models/ and outputs/."""
    monkeypatch.setenv("MNIST_OUTPUT_ROOT", str(tmp_path))
    assert output_root() == tmp_path.resolve()
    monkeypatch.delenv("MNIST_OUTPUT_ROOT")
    assert output_root() == ROOT
