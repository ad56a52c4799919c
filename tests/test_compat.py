""".ci/compat.py, which CI runs to try the notebook with Colab's package set and with the lowest
versions that requirements.txt allows: it reports a notebook that fails or writes to the error
stream, it runs the notebook with the tests' settings, and the package sets are what they say.
(Running a notebook in a kernel is nbclient's work; here the check of what it left is tested.)"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import nbformat
import pytest

from notebooks.notebook_tools import ROOT

spec = importlib.util.spec_from_file_location("compat", ROOT / ".ci" / "compat.py")
compat = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compat)


def executed(*outputs: list[dict]) -> dict:
    """An executed notebook (as nbformat writes it) whose code cells have these outputs."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A title")])
    for cell_outputs in outputs:
        cell = nbformat.v4.new_code_cell("...")
        cell.outputs = [nbformat.from_dict(output) for output in cell_outputs]
        notebook.cells.append(cell)
    return json.loads(nbformat.writes(notebook))


STDOUT = {"output_type": "stream", "name": "stdout", "text": "test accuracy 99.6%\n"}
PICTURE = {"output_type": "display_data", "data": {"text/plain": "<Figure>"}, "metadata": {}}
STDERR = {"output_type": "stream", "name": "stderr", "text": "careful: deprecated\n"}
ERROR = {"output_type": "error", "ename": "ValueError", "evalue": "a newer API", "traceback": []}


@pytest.mark.parametrize(
    ("outputs", "found"),
    [
        ([[STDOUT], [PICTURE, STDOUT]], []),
        ([[STDOUT], [STDOUT, STDERR]], ["cell 2 wrote to the error stream: careful: deprecated\n"]),
        ([[ERROR], []], ["cell 1: ValueError: a newer API"]),
        ([[STDERR], [ERROR]], ["cell 1 wrote to the error stream", "cell 2: ValueError"]),
    ],
)
def test_errors_and_the_error_stream_fail_the_check(outputs: list, found: list[str]) -> None:
    """Each error and each output written to the error stream is a problem, named with its cell
    (the markdown title is cell 0); ordinary output is not."""
    problems = compat.problems(executed(*outputs))
    assert len(problems) == len(found) and all(
        problem.startswith(start) for problem, start in zip(problems, found)
    ), problems


def test_the_notebook_runs_with_the_tests_settings_in_the_new_environment(tmp_path: Path) -> None:
    """Quick mode, one epoch on 6,000 images, as in the tests; outputs in the scratch folder; the
    kernel runs the new environment's Python."""
    from notebooks.notebook_tools import TEST_SETTINGS

    venv = tmp_path / "venv"
    env = compat.kernel_environment(tmp_path, venv)
    assert {key: env[key] for key in TEST_SETTINGS} == TEST_SETTINGS
    assert env["MNIST_OUTPUT_ROOT"] == str(tmp_path) and env["KERAS_BACKEND"] == "tensorflow"
    assert env["PATH"].startswith(f"{venv / 'bin'}{os.pathsep}")


def test_the_package_sets_are_colabs_and_the_lowest_allowed() -> None:
    pins = (ROOT / ".ci" / "requirements-colab.txt").read_text()
    assert "googlecolab/backend-info" in pins and re.search(r"as of \d{4}-\d{2}-\d{2}", pins)
    versions = dict(re.findall(r"^([\w-]+)==([\w.]+)$", pins, re.M))
    assert {"tensorflow", "keras", "numpy", "ipykernel", "nbclient", "anywidget"} <= set(versions)
    assert compat.SETS["colab"]["install"] == ["-r", str(ROOT / ".ci" / "requirements-colab.txt")]
    lowest = compat.SETS["lowest"]["install"]
    assert lowest[:2] == ["-r", str(ROOT / "requirements.txt")] and "lowest-direct" in lowest
    assert (compat.SETS["colab"]["python"], compat.SETS["lowest"]["python"]) == ("3.13", "3.10")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python .ci/compat.py colab lowest" in ci
