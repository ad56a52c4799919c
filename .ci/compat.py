"""Run the notebook in another set of package versions than the newest: Colab's, or the lowest ones
that requirements.txt allows. CI runs both after the tests (.ci/run); by hand, from the repository
root:

    python .ci/compat.py colab    # .ci/requirements-colab.txt (Colab's versions), Python 3.13
    python .ci/compat.py lowest   # requirements.txt, each direct requirement at its lowest, 3.10

Each builds its own virtual environment with uv (pip install uv), runs the notebook top to bottom in
a fresh kernel of that environment, headless, in quick mode (one epoch on 6,000 training images),
and fails on any error or any output that a cell wrote to the error stream. It prints the versions
the notebook reported and its test accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script (python .ci/compat.py): the repository's modules
from notebooks.notebook_tools import TEST_SETTINGS  # noqa: E402

NOTEBOOK = ROOT / "notebooks" / "mnist_cnn.ipynb"
# uv from the PATH, or beside this interpreter (pip install uv into an environment not activated).
UV = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
SETS = {
    "colab": {"python": "3.13", "install": ["-r", str(ROOT / ".ci" / "requirements-colab.txt")]},
    "lowest": {
        "python": "3.10",
        "install": ["-r", str(ROOT / "requirements.txt"), "--resolution", "lowest-direct"],
    },
}


def problems(notebook: dict) -> list[str]:
    """Every error and every error-stream output that the executed notebook holds, with its cell."""
    found = []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                found.append(f"cell {index}: {output['ename']}: {output['evalue']}")
            elif output.get("name") == "stderr":
                found.append(
                    f"cell {index} wrote to the error stream: {''.join(output['text'])[:300]}"
                )
    return found


def execute(output: Path) -> int:
    """Run the notebook in a fresh kernel of this interpreter's environment (nbclient, as Jupyter
    and papermill do), write the executed notebook to ``output``, and report: 0 if it ran
    cleanly."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, timeout=900, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    try:
        client.execute()
    except CellExecutionError as error:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # the traceback without its colour codes
        print(f"the notebook stopped: {plain[-1500:]}")
    nbformat.write(notebook, output)
    found = problems(json.loads(output.read_text()))
    for problem in found:
        print(f"  {problem}")
    return 1 if found else 0


def python_for(version: str) -> str:
    """An interpreter of ``version`` that runs on this machine (pyenv's first), or ``version``
    itself, which uv then looks for."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [
        *sorted(pyenv.glob(f"{version}.*/bin/python{version}")),
        shutil.which(f"python{version}"),
    ]
    for candidate in filter(None, candidates):
        if subprocess.run([str(candidate), "-c", "pass"], capture_output=True).returncode == 0:
            return str(candidate)
    return version


def kernel_environment(workdir: Path, venv: Path) -> dict[str, str]:
    """The environment of a run in ``venv``: the tests' settings, outputs in ``workdir``, and the
    environment's Python first on the PATH (the kernel runs it)."""
    env = dict(os.environ, **TEST_SETTINGS, KERAS_BACKEND="tensorflow")
    env["MNIST_OUTPUT_ROOT"] = str(workdir)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # ipykernel 6.17 on Python 3.13: a debugger note
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    return env


def run(name: str, workdir: Path) -> int:
    """Build the environment of the set ``name`` in ``workdir``, run the notebook in it and
    report."""
    started, spec = time.monotonic(), SETS[name]
    venv = workdir / "venv"
    subprocess.run(
        [UV, "venv", "--quiet", "--python", python_for(spec["python"]), str(venv)], check=True
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [UV, "pip", "install", "--quiet", "--python", str(python), *spec["install"]], check=True
    )
    installed = time.monotonic() - started
    executed = workdir / "mnist_cnn.ipynb"
    command = [str(python), __file__, "--execute", str(executed)]
    code = subprocess.run(command, env=kernel_environment(workdir, venv)).returncode
    metrics = workdir / "outputs" / "metrics.json"
    if metrics.exists():
        reported = json.loads(metrics.read_text())
        versions = ", ".join(f"{key} {value}" for key, value in reported["versions"].items())
        print(
            f"{name}: {versions}; "
            f"test accuracy {reported['test_accuracy']:.2%} (quick mode, 1 epoch)"
        )
    verdict = "ran cleanly" if code == 0 else "FAILED"
    print(f"{name}: {verdict} (install {installed:.0f} s, all {time.monotonic() - started:.0f} s)")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "set", nargs="*", help=f"the package sets to try: {', '.join(SETS)} (default: all)"
    )
    parser.add_argument("--execute", type=Path, help=argparse.SUPPRESS)  # inside the environment
    args = parser.parse_args(argv)
    if args.execute:
        return execute(args.execute)
    unknown = set(args.set) - set(SETS)
    if unknown:
        parser.error(
            f"unknown package set {', '.join(sorted(unknown))}: choose from {', '.join(SETS)}"
        )
    failed = 0
    for name in args.set or list(SETS):
        with tempfile.TemporaryDirectory(prefix=f"mnist-{name}-") as workdir:
            failed += run(name, Path(workdir)) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
