"""What several test modules share: constants and small helpers. Import them from here (``from
tests.helpers import ...``); tests/conftest.py holds only pytest's fixtures and hooks, which pytest
loads itself."""

from __future__ import annotations

import os

import nbformat
import numpy as np
import pytest

from notebooks.notebook_tools import NOTEBOOK, ROOT, cells_tagged

RECIPE_PARAMS = (
    189_610  # the CNN's parameters: weights, biases, batch normalisation's four per channel
)
SAMPLES = ROOT / "data" / "samples"


def fail_or_skip(message: str) -> None:
    """Skip a test that lacks a tool, except under CI (CI=true), where a missing tool is a
    failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI=true, so this is a failure, not a skip")
    pytest.skip(message)


def cell_source(tag: str) -> str:
    """The source of the notebook's one code cell with ``tag``."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    (index,) = [i for i in cells_tagged(notebook, tag) if notebook.cells[i].cell_type == "code"]
    return notebook.cells[index].source


def centre_of_mass(images: np.ndarray) -> np.ndarray:
    """(row, column) of the centre of mass of one image (H, W), or of each of a stack (..., H,
    W)."""
    rows, cols = np.indices(images.shape[-2:])
    mass = images.sum(axis=(-2, -1))
    return np.stack(
        [(images * rows).sum(axis=(-2, -1)) / mass, (images * cols).sum(axis=(-2, -1)) / mass], -1
    )
