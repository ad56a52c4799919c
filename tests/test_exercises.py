"""Section 15's exercises and benchmarks/exercises.py, which measures what they give: every change that an
exercise asks for is in the notebook as the exercise quotes it, and applied to the notebook's own cells it
runs (the script's smoke mode: one epoch on 512 images)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
from notebook_helpers import NOTEBOOK, ROOT, apply_edits

sys.path.insert(0, str(ROOT / "benchmarks"))
import exercises


def exercise_cells() -> list[str]:
    """The markdown of section 15, one cell per exercise."""
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    start = next(i for i, c in enumerate(cells) if c.source.startswith("## 15. "))
    end = next(i for i, c in enumerate(cells) if i > start and c.source.startswith("## "))
    return [c.source for c in cells[start:end] if c.source.startswith("**Exercise ")]


def test_every_change_is_in_the_notebook_as_the_exercises_quote_it() -> None:
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    texts = exercise_cells()
    assert len(texts) >= 4
    for name, edits in exercises.VARIANTS.items():
        for tag, old, new in edits:
            tagged = [c.source for c in cells if tag in c.metadata.get("tags", []) and c.cell_type == "code"]
            assert any(apply_edits(source, [tag], [(tag, old, new)]) != source for source in tagged), name
            if name in exercises.EXERCISES:  # the learner is told exactly what to change
                quoted = [f"`{old.strip()}`"] + ([f"`{new.strip()}`"] if new.strip() else [])
                assert any(all(q in text for q in quoted) for text in texts), (name, quoted)
    assert any(f"`{exercises.INVERTED}`" in text for text in texts)


def test_the_smoke_run_makes_every_exercises_change_and_writes_its_figures() -> None:
    result = exercises.main(["--smoke"])
    assert result["mode"] == {"epochs": 1, "train_samples": 512, "validation_samples": 6000}
    runs = {run["variant"]: run for run in result["runs"]}
    assert list(runs) == ["the recipe", *exercises.EXERCISES]
    for run in runs.values():
        assert 0.0 <= run["val_accuracy"] <= 1.0 and run["train_loss"] > 0 and run["seconds"] > 0
        assert abs(run["untrained_loss"] - 2.30) < 0.1
    recipe = runs["the recipe"]
    assert recipe["params"] == 189_610 and 0.0 <= recipe["inverted_val_accuracy"] <= 1.0
    assert runs["first filters 3×3"]["output_shapes"][0] == [26, 26, 32]  # 28 − 3 + 1
    assert runs["first filters 3×3"]["params"] == 189_610 - (25 - 9) * 32
    channels = 32 + 64 + 64 + 128  # each batch normalisation had 4 numbers per channel; a bias has 1
    assert runs["no batch normalisation"]["params"] == 189_610 - 4 * channels + channels
    written = Path(os.environ["MNIST_OUTPUT_ROOT"]) / "outputs" / "exercises.json"
    assert json.loads(written.read_text())["val_accuracy"].keys() == runs.keys()
