"""pytest's fixtures and hooks for the tests: the notebook's own functions (run by tag), a model
trained by its own cells, and a stand-in model. The environment (the tests' settings, a scratch
output folder) is set by the conftest.py at the repository root, before anything is collected.
Helpers and constants that test modules import are in tests/helpers.py: pytest loads this file
itself, and a module that imported it would run it a second time.

Markers (pyproject.toml): ``kernel`` for the tests that start a Jupyter kernel (whole-notebook runs,
nbval's run of the notebook), ``browser`` for the test that drives JupyterLab in Chromium. The fast
inner loop leaves both out: ``pytest -m "not kernel and not browser"``.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from notebooks.notebook_tools import TRAINING_TAGS, run_tagged_cells


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """nbval's run of the notebook starts a kernel: mark its items so that ``-m "not kernel"`` skips
    it."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.kernel)


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
