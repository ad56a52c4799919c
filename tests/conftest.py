"""What the tests share: the notebook's own functions (run by tag), a model trained by its own
cells, a stand-in model, and small helpers. The environment (quick mode, a scratch output folder) is
set by the conftest.py at the repository root, before anything is collected.

Markers (pyproject.toml): ``kernel`` for the tests that start a Jupyter kernel (whole-notebook runs,
nbval's run of the notebook), ``browser`` for the test that drives JupyterLab in Chromium. The fast
inner loop leaves both out: ``pytest -m "not kernel and not browser"``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

import nbformat
import numpy as np
import pytest

from notebooks.notebook_tools import NOTEBOOK, TRAINING_TAGS, cells_tagged, run_tagged_cells

RECIPE_PARAMS = (
    189_610  # the CNN's parameters: weights, biases, batch normalisation's four per channel
)
SAMPLES = Path(NOTEBOOK).parent.parent / "data" / "samples"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """nbval's run of the notebook starts a kernel: mark its items so that ``-m "not kernel"`` skips
    it."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.kernel)


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


@pytest.fixture(scope="session")
def notebook_functions() -> dict:
    """The notebook's functions, with the cells they need (TAGS in notebook_tools): the settings,
    the data and the facts measured on it (MNIST_CENTRE, say)."""
    return run_tagged_cells(
        "model", "model-files", "annotate", "look-inside", "samples", "drawing-pad"
    )


@pytest.fixture(scope="session")
def trained_notebook(notebook_functions: dict) -> dict:
    """The notebook's own preprocessing and training cells, run for two epochs on the tests' 6,000
    images (conftest.py at the root): a real model, weaker than the full run's, for tests that need
    one to read digits or to look inside. (One epoch reads too few of the thickest drawings to tell
    a broken preparation from a weak model.)"""
    namespace = dict(notebook_functions, EPOCHS=2)
    return run_tagged_cells(*TRAINING_TAGS, namespace=namespace)  # after preprocess, which it needs


@pytest.fixture
def fixed_model(notebook_functions: dict):
    """A stand-in model that always answers 6 with probability 1; ``fixed_model.seen`` keeps its
    inputs."""
    keras = notebook_functions["keras"]

    class Fixed(keras.Model):
        seen: ClassVar[list] = []

        def call(self, x):
            Fixed.seen.append(x)
            return keras.ops.one_hot(keras.ops.full((keras.ops.shape(x)[0],), 6, dtype="int32"), 10)

    Fixed.seen = []
    model = Fixed()
    model.compile(run_eagerly=True)  # so that call() sees real arrays
    return model
