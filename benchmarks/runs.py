"""Runs of the notebook with papermill, each kept in its own result file, so that a benchmark that
stops resumes where it stopped: a run whose result file exists is read back, not run again."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import papermill

from benchmarks.progress import EpochLines, Progress
from notebooks.notebook_tools import NOTEBOOK, notebook_settings


def cached(path: Path, compute: Callable[[], dict]) -> dict:
    """``compute()``'s result, written to ``path`` as JSON; read back instead when ``path``
    exists."""
    if path.exists():
        return json.loads(path.read_text())
    result = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(result, indent=2))
    partial.replace(path)  # a run stopped while writing leaves no result file behind
    return result


def run_notebook(
    label: str, parameters: dict, env: dict[str, str | None], progress: Progress, output_root: Path
) -> dict:
    """Execute the notebook with papermill in a fresh kernel (which inherits ``env``; None unsets a
    variable) writing to ``output_root``; its metrics.json. The executed notebook and the model are
    kept in ``output_root/outputs/benchmark/`` as ``label.ipynb`` and ``label.keras``.

    Parameters equal to the notebook's full-mode defaults are not injected, so that a run with the
    defaults is the learner's run, cell for cell (``refresh_notebook --executed`` can commit it).
    """
    runs = output_root / "outputs" / "benchmark"
    result = runs / f"{label}.json"
    defaults = notebook_settings(quick=False) | {"QUICK": False}
    parameters = {key: value for key, value in parameters.items() if defaults.get(key) != value}
    progress.next_run(label, cached=result.exists())

    def run() -> dict:
        runs.mkdir(parents=True, exist_ok=True)
        saved = {key: os.environ.get(key) for key in env}
        for key, value in env.items() | {"MNIST_OUTPUT_ROOT": str(output_root)}.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        try:
            papermill.execute_notebook(
                NOTEBOOK,
                runs / f"{label}.ipynb",
                parameters=parameters or None,
                cwd=NOTEBOOK.parent,
                progress_bar=False,
                stdout_file=EpochLines(progress),
                store_widget_state=False,
            )
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        shutil.copy(output_root / "models" / "mnist_cnn.keras", runs / f"{label}.keras")
        return json.loads((output_root / "outputs" / "metrics.json").read_text())

    return cached(result, run)
