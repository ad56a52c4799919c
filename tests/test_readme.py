"""The README's headline figures are the committed notebook's: a re-run that changes the notebook's
outputs must change the README too."""

from __future__ import annotations

import re

import nbformat

from notebooks.notebook_tools import NOTEBOOK, ROOT, cells_tagged


def printed(tag: str) -> str:
    """Everything that the committed notebook's cells with ``tag`` printed."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    outputs = [o for i in cells_tagged(notebook, tag) for o in notebook.cells[i].get("outputs", [])]
    return "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")


def committed_run() -> dict[str, str]:
    """The headline figures, as the committed notebook printed them."""
    trained = re.search(r"for (\d+) epochs? in (\d+) s", printed("train"))
    evaluated = printed("evaluate")
    return {
        "epochs": trained.group(1),
        "seconds": trained.group(2),
        "test accuracy": re.search(r"test accuracy (\d+\.\d+)%", evaluated).group(1),
        "mistakes": re.search(r"(\d+) mistakes", evaluated).group(1),
        "validation accuracy": re.search(r"last epoch: (\d+\.\d+)%", evaluated).group(1),
        "baseline": re.search(r"reads (\d+\.\d+)%", printed("baseline")).group(1),
    }


def readme_results() -> dict[str, str]:
    """The same figures, as the README's results paragraph states them."""
    readme = (ROOT / "README.md").read_text()
    results = readme[readme.index("**Results.**") :].split("\n\n")[0].replace("\n", " ")
    patterns = {
        "epochs": r"\((\d+) epochs;",
        "seconds": r"(\d+) s of training",
        "test accuracy": r"(\d+\.\d+)% of the 10,000 test digits",
        "mistakes": r"\((\d+) mistakes",
        "validation accuracy": r"(\d+\.\d+)% of its validation images",
        "baseline": r"baseline it builds first reads (\d+\.\d+)%",
    }
    found = {name: re.search(pattern, results) for name, pattern in patterns.items()}
    missing = [name for name, match in found.items() if match is None]
    assert not missing, f"the README's results paragraph no longer states {missing}"
    return {name: match.group(1) for name, match in found.items()}


def test_the_readme_states_the_committed_runs_figures() -> None:
    assert readme_results() == committed_run()
