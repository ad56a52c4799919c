"""The notebook's shape, read from the committed file without running it: its length and pacing,
what a reader sees before the first digit, clean metadata and outputs, its cell tags, and its text
twin."""

from __future__ import annotations

import base64
import re

import cv2
import jupytext
import nbformat
import numpy as np
import pytest

from notebooks.notebook_tools import NOTEBOOK, ROOT, TAGS, TWIN, cells_tagged, tags_of


@pytest.fixture(scope="module")
def cells() -> list:
    return nbformat.read(NOTEBOOK, as_version=4).cells


def lines_of(cell: nbformat.NotebookNode) -> int:
    """Lines of code in a code cell, blank lines not counted."""
    return (
        sum(1 for line in cell.source.splitlines() if line.strip())
        if cell.cell_type == "code"
        else 0
    )


def is_collapsed(cell: nbformat.NotebookNode) -> bool:
    return cell.metadata.get("jupyter", {}).get("source_hidden", False)


def sections(cells: list) -> dict[str, list]:
    """The cells under each "## " heading: by number for "## N. Title", else by the heading's
    text."""
    found, current = {}, None
    for cell in cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            heading = cell.source.splitlines()[0]
            number = re.match(r"## (\d+)\. ", heading)
            current = number.group(1) if number else heading
        found.setdefault(current, []).append(cell)
    return found


def test_the_lesson_is_at_most_5000_words(cells: list) -> None:
    words = sum(len(cell.source.split()) for cell in cells if cell.cell_type == "markdown")
    assert words <= 5000, words


def test_no_code_cell_is_longer_than_a_screen(cells: list) -> None:
    too_long = {index: len(cell.source.splitlines()) for index, cell in enumerate(cells)}
    too_long = {i: n for i, n in too_long.items() if cells[i].cell_type == "code" and n > 40}
    assert not too_long, f"code cells over 40 lines (cell index: lines): {too_long}"


def test_at_most_80_lines_of_code_before_the_first_digit(cells: list) -> None:
    """Collapsed cells count too: GitHub, nbviewer and VS Code show their code in full."""
    first_picture = next(
        i for i, c in enumerate(cells) if c.cell_type == "code" and "imshow" in c.source
    )
    assert "train_images[i]" in cells[first_picture].source  # a picture of digits from the data
    assert sum(lines_of(c) for c in cells[:first_picture]) <= 80
    first_code = next(c for c in cells if c.cell_type == "code")
    assert "parameters" in tags_of(first_code)


def test_only_the_setup_names_tensorflow(cells: list) -> None:
    """The lesson's cells need no TensorFlow of their own, so that any Keras backend runs them (the
    setup alone asks TensorFlow for deterministic GPU ops)."""
    for cell in cells:
        if cell.cell_type == "code" and "setup" not in tags_of(cell):
            assert "tensorflow" not in cell.source and "tf." not in cell.source, cell.source[:60]


def test_the_dense_baseline_comes_before_the_cnn(cells: list) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    baselines = cells_tagged(notebook, "baseline")  # built, then trained (sections 5 to 7)
    training = cells_tagged(notebook, "train")
    assert max(baselines) < min(training) and max(baselines) < min(cells_tagged(notebook, "model"))
    source = "\n".join(cells[i].source for i in baselines)
    assert "layers.Flatten()" in source and "Conv2D" not in source
    assert (
        ".fit(" in source and "evaluate(x_val, y_val" in source
    )  # scored on the validation images


def test_your_own_digit_is_no_longer_than_the_core_lesson(cells: list) -> None:
    """Sections 21 to 24's visible code is at most as long as that of sections 4 to 14 (prepare
    to evaluate)."""
    by_section = sections(cells)
    assert by_section["21"][0].source.startswith("## 21. How MNIST's digits were made")
    assert by_section["22"][0].source.startswith("## 22. Prepare your own picture")
    assert by_section["23"][0].source.startswith("## 23. Prepare your own picture")
    assert by_section["24"][0].source.startswith("## 24. Read your own handwriting")
    own_digit = ("21", "22", "23", "24")
    own = sum(lines_of(c) for n in own_digit for c in by_section[n] if not is_collapsed(c))
    core = sum(lines_of(c) for n in map(str, range(4, 15)) for c in by_section[n])
    assert 0 < own <= core, (own, core)


def test_every_tag_is_named_once_in_notebook_tools(cells: list) -> None:
    used = {tag for cell in cells for tag in tags_of(cell)}
    assert used == set(TAGS), (used - set(TAGS), set(TAGS) - used)
    with pytest.raises(ValueError, match="unknown cell tag 'modle'"):
        cells_tagged(nbformat.read(NOTEBOOK, as_version=4), "modle")


def test_the_text_twin_holds_the_same_cells() -> None:
    """notebooks/mnist_cnn.py (jupytext's py:percent) has the notebook's cells, in order: the same
    code, the same markdown and the same tags and collapsed state. `jupytext --sync
    notebooks/mnist_cnn.ipynb` brings them together after an edit of either."""
    notebook, twin = nbformat.read(NOTEBOOK, as_version=4), jupytext.read(TWIN)
    assert [c.cell_type for c in twin.cells] == [c.cell_type for c in notebook.cells]
    for ours, theirs in zip(notebook.cells, twin.cells):
        assert theirs.source == ours.source, ours.source[:60]
        assert theirs.metadata == ours.metadata, ours.source[:60]


def test_notebook_metadata_is_clean(cells: list) -> None:
    """Clean metadata, collapsed cells marked for every notebook app, no error or stderr output,
    nothing alarming, and the drawing pad stored as its text (a widget view with no kernel behind it
    shows JupyterLab's "Error displaying widget")."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert set(notebook.metadata) <= {"kernelspec", "language_info"}
    for cell in cells:
        assert set(cell.metadata) <= {"tags", "jupyter", "cellView"}, cell.source[:60]
        hidden = is_collapsed(cell)
        assert (
            hidden
            == (cell.metadata.get("cellView") == "form")
            == cell.source.startswith("# @title ")
        )
        if cell.cell_type == "code":
            for output in cell.outputs:
                assert output.output_type != "error"
                assert output.get("name") != "stderr", f"stderr output in: {cell.source[:60]}"
                assert "application/vnd.jupyter.widget-view+json" not in output.get("data", {})
                text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
                assert "CUDA" not in text, cell.source[:60]
    (pad,) = [c for c in cells if "show-pad" in tags_of(c)]
    assert "drawing pad" in pad.outputs[0].data["text/plain"]


def test_the_pads_picture_travels_with_the_notebook(cells: list) -> None:
    """The picture of the pad is an attachment of a markdown cell (so GitHub and Colab show it), a
    PNG that decodes, and the same picture as the README's."""
    (cell,) = [c for c in cells if "attachment:drawing_pad.png" in c.source]
    assert cell.cell_type == "markdown"
    png = base64.b64decode(cell.attachments["drawing_pad.png"]["image/png"])
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[0] > 200 and image.shape[1] > 400
    assert png == (ROOT / "docs" / "drawing_pad.png").read_bytes()


def test_committed_notebook_was_run_top_to_bottom(cells: list) -> None:
    counts = [cell.execution_count for cell in cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))
