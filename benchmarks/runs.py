"""Runs of the notebook with papermill, each kept in its own result file, so that a benchmark that
stops resumes where it stopped: a run whose result file exists is read back, not run again."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import papermill

from benchmarks.progress import EpochLines, Progress
from notebooks.notebook_tools import NOTEBOOK, notebook_settings, output_root

# The environment variables that the notebook's setup cell reads to change its settings.
OVERRIDES = ("MNIST_QUICK", "MNIST_EPOCHS", "MNIST_TRAIN_SAMPLES")


def write_results(results: dict, name: str) -> Path:
    """A benchmark's results as JSON in ``outputs/<name>`` (under the output root), said aloud."""
    out = output_root() / "outputs" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")
    return out


def refuse_overrides() -> None:
    """Stop (SystemExit, naming the variables) if any of ``OVERRIDES`` is set: a full-mode
    measurement is of the notebook's full mode, and such a variable would change what the setup cell
    does (quick mode, other epochs, fewer images), so what is measured."""
    found = sorted(key for key in os.environ if key in OVERRIDES)
    if found:
        them = "it" if len(found) == 1 else "them"
        raise SystemExit(
            f"full mode measures the notebook's own settings, but {', '.join(found)} "
            f"would change them: unset {them} first (env -u NAME ...)"
        )


@contextlib.contextmanager
def environment(changes: dict[str, str | None]) -> Iterator[None]:
    """``os.environ`` with ``changes`` made (None unsets a variable) for the duration of the block;
    afterwards every variable and the working directory are as they were."""
    saved, folder = {key: os.environ.get(key) for key in changes}, Path.cwd()
    try:
        for key, value in changes.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.chdir(folder)


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
    kept in ``output_root/outputs/benchmark/`` as ``label.ipynb`` and ``label.keras``. This
    process's environment and working directory are left as they were.

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
        with environment(env | {"MNIST_OUTPUT_ROOT": str(output_root)}):
            papermill.execute_notebook(
                NOTEBOOK,
                runs / f"{label}.ipynb",
                parameters=parameters or None,
                cwd=NOTEBOOK.parent,
                progress_bar=False,
                stdout_file=EpochLines(progress),
                store_widget_state=False,
            )
        shutil.copy(output_root / "models" / "mnist_cnn.keras", runs / f"{label}.keras")
        return json.loads((output_root / "outputs" / "metrics.json").read_text())

    return cached(result, run)
