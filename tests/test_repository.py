"""The project's own promises about how it is run: the README's commands, CI, and pytest's settings."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys

from notebook_helpers import ROOT


def readme_command(heading_words: str) -> str:
    """The shell command in the README's first code block after the paragraph that contains the words."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index(heading_words)
    return re.search(r"```bash\n(.+?)\n```", readme[start:], re.S).group(1)


def test_ci_runs_the_readme_test_command() -> None:
    """A learner who passes the README's test command passes CI: the same lint and test steps."""
    command = readme_command("Run the tests")
    steps = command.split(" && ")
    assert steps[:3] == ["python3 -m venv .venv", ". .venv/bin/activate", "pip install -r requirements.txt"]
    checks = " && ".join(steps[3:])
    assert checks == "ruff check . && ruff format --check . && pytest"
    assert checks in (ROOT / ".ci" / "run").read_text().splitlines()


def test_any_pytest_run_uses_quick_mode_and_a_scratch_folder() -> None:
    """`pytest notebooks/mnist_cnn.ipynb` alone loads the root conftest.py, which sets quick mode and points
    the notebook's output away from models/ and outputs/."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MNIST_")}
    trace = subprocess.run(
        [sys.executable, "-m", "pytest", "--co", "-q", "--trace-config", "notebooks/mnist_cnn.ipynb"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"{ROOT / 'conftest.py'}" in trace
    saved = dict(os.environ)
    try:
        for key in [k for k in os.environ if k.startswith("MNIST_")]:
            del os.environ[key]
        runpy.run_path(str(ROOT / "conftest.py"))
        assert os.environ["MNIST_QUICK"] == "1"
        assert not os.environ["MNIST_OUTPUT_ROOT"].startswith(str(ROOT))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_readme_links_to_files_that_exist() -> None:
    """Every picture and file that the README links to is in the repository (docs/ is committed for that)."""
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#:]+)\)", readme)  # relative links only: no URLs, no anchors
    assert "docs/drawing_pad.png" in targets and "docs/benchmark.png" in targets
    missing = [target for target in targets if not (ROOT / target).exists()]
    assert not missing, f"README links to missing files: {missing}"
