""".ci/compat.py, which CI runs to try the notebook with Colab's package set and with the lowest
versions that requirements.txt allows: it reports a notebook that fails or writes to the error
stream, and the package sets are what they say."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import nbformat
import pytest

from notebooks.notebook_tools import ROOT

spec = importlib.util.spec_from_file_location("compat", ROOT / ".ci" / "compat.py")
compat = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compat)


def notebook_of(*sources: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return notebook


@pytest.mark.kernel
@pytest.mark.parametrize(
    ("sources", "found"),
    [
        (["x = 1", "print(x)"], []),
        (
            ["import sys", "print('careful', file=sys.stderr)"],
            ["cell 1 wrote to the error stream: careful"],
        ),
        (["x = 1", "raise ValueError('a newer API')"], ["cell 1: ValueError: a newer API"]),
    ],
)
def test_a_failing_notebook_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sources: list[str], found: list[str]
) -> None:
    """The notebook runs in a fresh kernel; an error, or anything written to the error stream,
    fails."""
    path = tmp_path / "notebooks" / "mnist_cnn.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook_of(*sources), path)
    monkeypatch.setattr(compat, "NOTEBOOK", path)
    executed = tmp_path / "executed.ipynb"
    assert compat.execute(executed) == (1 if found else 0)
    problems = compat.problems(nbformat.read(executed, as_version=4))
    assert [p.strip() for p in problems] == found


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
