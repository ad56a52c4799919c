"""Settings for every pytest run from this repository, loaded before any test or notebook is collected.

Whatever pytest is asked to run (`pytest`, `pytest tests/...` or `pytest notebooks/mnist_cnn.ipynb` alone),
the notebook runs in quick mode for one epoch (a test that needs more sets it) and writes its models and
pictures to a temporary folder, never to the project's `models/` and `outputs/`. Kernels started by nbval
and by the tests inherit these variables.

pytest-xdist runs the tests in parallel processes (`-n auto` in pyproject.toml). Each of them (gw0, gw1, ...)
writes into a subfolder of its own, so that two notebook runs never write the same file, and the hook below
keeps together what must run in one process.
"""

from __future__ import annotations

import os
import tempfile

import pytest

os.environ["MNIST_QUICK"] = "1"
os.environ["MNIST_EPOCHS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if "MNIST_OUTPUT_ROOT" not in os.environ:
    _scratch = tempfile.TemporaryDirectory(prefix="mnist-tests-")  # removed when pytest exits
    os.environ["MNIST_OUTPUT_ROOT"] = _scratch.name
if "PYTEST_XDIST_WORKER" in os.environ:  # a worker inherits the main process's folder: use a subfolder
    _own = os.path.join(os.environ["MNIST_OUTPUT_ROOT"], os.environ["PYTEST_XDIST_WORKER"])
    os.makedirs(_own, exist_ok=True)
    os.environ["MNIST_OUTPUT_ROOT"] = _own


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Groups for `--dist loadgroup`: nbval's cells of the notebook run in one kernel, in order, so in one
    process; the tests that use the session fixture running the notebook's functions share one process, so
    that the fixture runs once. Every other test goes to whichever process is free."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group("notebook-cells"))
        elif "notebook_functions" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("notebook-functions"))
