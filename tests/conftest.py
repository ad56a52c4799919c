"""The session fixture that runs the notebook's own cells (see notebook_helpers.py)."""

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
        "drawing-pad",
    )


@pytest.fixture(scope="session")
def trained_notebook(notebook_functions: dict) -> dict:
    """The notebook's own preprocessing, schedule and training cells, run for one epoch on the tests' 6,000
    images (conftest.py at the root): a real model, weaker than the full run's, for tests that need one to
    read digits. It reads 271 of the 280 drawings of test_drawing_pad.py (the full model: all 280)."""
    namespace = dict(notebook_functions, EPOCHS=1)
    return run_tagged_cells("preprocess", "schedule", "train", namespace=namespace)
