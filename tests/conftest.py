"""The session fixtures that run the notebook's own cells (see notebook_helpers.py)."""

from __future__ import annotations

import pytest
from notebook_helpers import SETUP_TAGS, run_tagged_cells


@pytest.fixture(scope="session")
def notebook_functions() -> dict:
    """The notebook's functions and the data facts they rely on (MNIST_CENTRE is measured on the data)."""
    return run_tagged_cells(
        *SETUP_TAGS,
        "load-data",
        "load-call",
        "mnist-facts",
        "model",
        "augmentation",
        "model-files",
        "annotate",
        "prepare-digit",
        "samples",
        "drawing-pad",
    )


@pytest.fixture(scope="session")
def trained_notebook(notebook_functions: dict) -> dict:
    """The notebook's own preprocessing, schedule and training cells, run for two epochs on the tests' 6,000
    images (conftest.py at the root): a real model, weaker than the full run's, for tests that need one to
    read digits or to look inside. (One epoch reads too few of the thickest drawings to tell a broken
    preparation from a weak model: 74% of the 30-pixel strokes, against 87% after two.)"""
    namespace = dict(notebook_functions, EPOCHS=2)
    return run_tagged_cells("preprocess", "schedule", "train", namespace=namespace)
