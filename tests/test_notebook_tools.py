"""notebooks/notebook_tools.py, which the tests and the benchmarks share: where outputs go, the
tags' needs, and how run_tagged_cells follows them."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

from notebooks.notebook_tools import (
    ROOT,
    TAGS,
    TEST_SETTINGS,
    cells_tagged,
    cells_to_run,
    code_of,
    names_of,
    needs_of,
    output_root,
    read_notebook,
    run_tagged_cells,
    tags_of,
)
from tests.helpers import RECIPE_PARAMS


def test_outputs_go_to_mnist_output_root_or_else_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the notebook's setup cell decides for models/ and outputs/."""
    monkeypatch.setenv("MNIST_OUTPUT_ROOT", str(tmp_path))
    assert output_root() == tmp_path.resolve()
    monkeypatch.delenv("MNIST_OUTPUT_ROOT")
    assert output_root() == ROOT


def test_each_tags_needs_cover_the_names_its_cells_read() -> None:
    """TAGS says which tags each tag needs: every name that a tagged cell reads (at its top level or
    in its functions) and that an earlier tagged cell binds comes from a tag it needs, directly or
    not. Names that only untagged cells bind (section 17's predictions, say) are the caller's."""
    notebook = read_notebook()
    bound_by: dict[str, set[str]] = {}  # name: the tags of the cells so far that bind it
    missing = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        tags = set(tags_of(cell)) - {"nbval-ignore-output"}
        reads, binds = names_of(code_of(cell))
        for tag in tags:
            available = needs_of([tag]) | {tag}
            for name in sorted(reads - binds - set(dir(builtins))):
                if bound_by.get(name) and not bound_by[name] & available:
                    missing.append(f"cell {index} ({tag}) reads {name} from {bound_by[name]}")
        for name in binds:
            bound_by.setdefault(name, set()).update(tags)
    assert not missing, "\n".join(missing)
    assert all(need in TAGS for tag in TAGS.values() for need in tag.needs)


def test_a_tag_runs_the_tags_it_needs_first_once_in_the_notebooks_order() -> None:
    """The model's cell needs the augmentation's, which needs the imports, which need the setup,
    which needs the settings: for an empty namespace all of them run, each cell once, in order, and
    the model builds."""
    notebook = read_notebook()
    order = cells_to_run(notebook, ["model", "augmentation"], {})
    expected = [
        i
        for tag in ("parameters", "setup", "imports", "augmentation", "model")
        for i in cells_tagged(notebook, tag)
        if notebook.cells[i].cell_type == "code"
    ]
    assert order == sorted(expected) and len(set(order)) == len(order)
    namespace = run_tagged_cells("model")
    assert namespace["build_model"]().count_params() == RECIPE_PARAMS


def test_what_the_namespace_holds_is_not_run_again_unless_named() -> None:
    """A setting changed after the parameters cell (as papermill injects one) stays when a later
    cell runs; so does a figure that a test gives instead of running its cells; a tag named
    explicitly runs again, even when the namespace holds what it gives."""
    namespace = run_tagged_cells("parameters")
    namespace["EPOCHS"] = 7
    run_tagged_cells("setup", namespace=namespace)
    assert namespace["EPOCHS"] == 7
    notebook = read_notebook()
    (parameters,) = cells_tagged(notebook, "parameters")
    assert parameters not in cells_to_run(notebook, ["imports"], namespace)
    given = dict(namespace, history=None, baseline_accuracy=0.9)  # what read-history reads
    assert not set(cells_to_run(notebook, ["read-history"], given)) - set(
        cells_tagged(notebook, "read-history")
    )
    run_tagged_cells("parameters", "setup", namespace=namespace)
    assert namespace["EPOCHS"] == int(TEST_SETTINGS["MNIST_EPOCHS"])  # as conftest.py sets it


def test_an_edit_of_a_cell_that_does_not_run_is_an_error() -> None:
    namespace = run_tagged_cells("parameters")
    with pytest.raises(ValueError, match="the cells tagged 'parameters' do not run"):
        run_tagged_cells("setup", namespace=namespace, edits=[("parameters", "SEED = 42", "")])
