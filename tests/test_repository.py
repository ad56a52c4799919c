"""The project's own promises about how it is run: the README's commands, CI, the two installs,
pytest's settings, and the README as a front page whose links resolve."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys

from notebooks.notebook_tools import ROOT, TEST_SETTINGS

TEST_TOOLS = ("pytest", "nbval", "playwright", "jax", "ruff", "uv", "jupytext")


def readme_command(heading_words: str) -> str:
    """The shell command in the README's first code block after the paragraph that contains the
    words."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index(heading_words)
    return re.search(r"```bash\n(.+?)\n```", readme[start:], re.S).group(1)


def requirement_names(path: str) -> list[str]:
    lines = [line.split("#")[0].strip() for line in (ROOT / path).read_text().splitlines()]
    return [
        re.split(r"[<>=\[ ]", line)[0].lower()
        for line in lines
        if line and not line.startswith("-r")
    ]


def test_ci_runs_the_readme_test_command() -> None:
    """A learner who passes the README's test command passes CI: the same install, lint and test
    steps."""
    steps = readme_command("Run the tests").split(" && ")
    install = [
        "python3 -m venv .venv",
        ". .venv/bin/activate",
        "pip install -r requirements-dev.txt",
    ]
    assert steps[:3] == install
    checks = steps[3:]
    assert checks == ["ruff check .", "ruff format --check .", "pytest"]
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line.split("#")[0].strip() for line in ci.splitlines()]
    # Each step on a line of its own, in order: `set -e` stops at a failing step only then (a
    # failure before the last `&&` of a list would let the script go on and exit 0).
    lines = [commands.index(step) for step in checks]
    assert lines == sorted(lines) and "-r requirements-dev.txt" in ci
    assert not [line for line in commands if "&&" in line or "||" in line]


def test_ci_fails_when_any_step_fails(tmp_path) -> None:
    """.ci/run stops with a non-zero status at the first failing step: its lines run as they are,
    with each command replaced by a stand-in that fails for one step."""
    ci = (ROOT / ".ci" / "run").read_text()
    start = ci.index("ruff check .")
    end = ci.index("python .ci/compat.py")
    script = "set -euo pipefail\nstart=0\n" + ci[start:end] + "echo reached-compat\n"
    for failing in ("nothing", "ruff check", "ruff format", "pytest"):
        stubs = tmp_path / failing.replace(" ", "-")
        stubs.mkdir()
        for tool in ("ruff", "pytest"):
            stub = stubs / tool
            stub.write_text(f'#!/bin/sh\ncase "{tool} $*" in "{failing}"*) exit 1;; esac\nexit 0\n')
            stub.chmod(0o755)
        env = dict(os.environ, PATH=f"{stubs}{os.pathsep}{os.environ['PATH']}")
        done = subprocess.run(
            ["bash", "-c", script], env=env, capture_output=True, text=True, check=False
        )
        if failing == "nothing":  # the stand-ins themselves let the script through
            assert done.returncode == 0 and "reached-compat" in done.stdout, done
        else:
            assert done.returncode != 0, f"{failing} failed, yet the script went on: {done}"
            assert "reached-compat" not in done.stdout


def test_the_learner_installs_what_the_notebook_needs_and_no_test_bench() -> None:
    """The run command installs requirements.txt alone, which holds no test tool;
    requirements-dev.txt adds the test tools to all of it."""
    run = readme_command("Run the whole walkthrough")
    assert (
        "pip install -r requirements.txt " in run and "papermill notebooks/mnist_cnn.ipynb" in run
    )
    runtime = requirement_names("requirements.txt")
    assert {"tensorflow", "keras", "anywidget", "papermill", "scikit-learn"} <= set(runtime)
    assert not set(TEST_TOOLS) & set(runtime)
    dev = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev.splitlines()
    assert set(TEST_TOOLS) <= set(requirement_names("requirements-dev.txt"))


def test_any_pytest_run_uses_quick_mode_and_a_scratch_folder() -> None:
    """`pytest notebooks/mnist_cnn.ipynb` alone loads the root conftest.py, which sets quick mode
    (one epoch on 6,000 images) and points the notebook's output away from models/ and outputs/."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MNIST_")}
    trace = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--co",
            "-q",
            "--trace-config",
            "notebooks/mnist_cnn.ipynb",
        ],
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
        assert {key: os.environ[key] for key in TEST_SETTINGS} == TEST_SETTINGS
        assert not os.environ["MNIST_OUTPUT_ROOT"].startswith(str(ROOT))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_no_test_module_imports_a_conftest() -> None:
    """pytest imports each conftest.py itself; a test module that imports one too (``from
    tests.conftest import ...``) runs it a second time, as another module, with a second copy of
    its fixtures. The helpers the tests share are in tests/helpers.py."""
    importing = [
        path.name
        for path in sorted((ROOT / "tests").glob("*.py"))
        if re.search(r"^\s*(from|import)\s+(tests\.)?conftest\b", path.read_text(), re.M)
    ]
    assert not importing, importing


def test_readme_is_a_front_page_whose_links_resolve() -> None:
    """At most 150 lines; every picture and file that the README and docs/ link to is in the
    repository."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    assert all(
        f"docs/{name}" in readme for name in ("drawing_pad.png", "benchmark.png", "benchmark.md")
    )
    missing = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(
            r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()
        ):  # relative links only
            if not (page.parent / target).exists():
                missing.append(f"{page.relative_to(ROOT)}: {target}")
    assert not missing, f"links to missing files: {missing}"
