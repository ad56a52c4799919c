"""Settings for every pytest run from this repository, loaded before any test or notebook is collected.

Whatever pytest is asked to run (`pytest`, `pytest tests/...` or `pytest notebooks/mnist_cnn.ipynb` alone),
the notebook runs in quick mode for one epoch (a test that needs more sets it) and writes its models and
pictures to a temporary folder, never to the project's `models/` and `outputs/`. Kernels started by nbval
and by the tests inherit these variables.
"""

from __future__ import annotations

import os
import tempfile

os.environ["MNIST_QUICK"] = "1"
os.environ["MNIST_EPOCHS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if "MNIST_OUTPUT_ROOT" not in os.environ:
    _scratch = tempfile.TemporaryDirectory(prefix="mnist-tests-")  # removed when pytest exits
    os.environ["MNIST_OUTPUT_ROOT"] = _scratch.name
