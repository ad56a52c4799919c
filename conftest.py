"""Settings for every pytest run from this repository, loaded before any test or notebook is
collected.

Whatever pytest is asked to run (`pytest`, `pytest tests/...` or `pytest notebooks/mnist_cnn.ipynb`
alone), the notebook runs with the tests' settings, ``TEST_SETTINGS`` in notebooks/notebook_tools.py
(quick mode, one epoch on the first 6,000 training images; a test that needs more sets it), and
writes its models and pictures to a temporary folder, never to the project's `models/` and
`outputs/`. Such a model reads about 94% of the test digits: enough for what the tests check, in a
fraction of quick mode's own time. Kernels started by nbval and by the tests inherit these
variables.
"""

from __future__ import annotations

import os
import tempfile

from notebooks.notebook_tools import TEST_SETTINGS

os.environ.update(TEST_SETTINGS)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if "MNIST_OUTPUT_ROOT" not in os.environ:
    _scratch = tempfile.TemporaryDirectory(prefix="mnist-tests-")  # removed when pytest exits
    os.environ["MNIST_OUTPUT_ROOT"] = _scratch.name
