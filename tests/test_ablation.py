"""Section 26's exercises, section 25's table and benchmarks/ablation.py, which measures what they
and the recipe's other choices give: every change is in the notebook as the exercises quote it, and,
applied to the notebook's own cells, it runs (the script's smoke mode: one epoch on 512 images)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from benchmarks import ablation, runs
from notebooks.notebook_tools import (
    NOTEBOOK,
    apply_edits,
    cells_tagged,
    edited,
    output_root,
    run_tagged_cells,
)
from tests.helpers import RECIPE_PARAMS


def exercise_cells() -> list[str]:
    """The markdown of section 26, one cell per exercise."""
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    start = next(i for i, c in enumerate(cells) if c.source.startswith("## 26. "))
    end = next(i for i, c in enumerate(cells) if i > start and c.source.startswith("## "))
    return [c.source for c in cells[start:end] if c.source.startswith("**Exercise ")]


def exercise_introduction() -> list[str]:
    """The markdown cells of sections 25 and 26 before the first exercise."""
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    start = next(i for i, c in enumerate(cells) if c.source.startswith("## 25. "))
    end = next(i for i, c in enumerate(cells) if i > start and "**Exercise 1" in c.source)
    return [c.source for c in cells[start:end] if c.cell_type == "markdown"]


def test_every_change_is_in_the_notebook_as_the_exercises_quote_it() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    texts = exercise_cells()
    assert len(texts) >= 4
    for name, edits in ablation.VARIANTS.items():
        for tag, old, new in edits:
            tagged = [notebook.cells[i].source for i in cells_tagged(notebook, tag)]
            assert any(edited(source, old, new) for source in tagged), (name, old)
            if name in ablation.EXERCISES:  # the learner is told exactly what to change
                quoted = [f"`{old.strip()}`"] + ([f"`{new.strip()}`"] if new.strip() else [])
                assert any(all(q in text for q in quoted) for text in texts), (name, quoted)
    assert any(f"`{ablation.INVERTED}`" in text for text in texts)
    assert any(all(f"`{line}`" in text for line in ablation.MOVED) for text in texts)
    setting = [f"`{name} = {value:_}`" for name, value in ablation.EXERCISE_SETTINGS.items()]
    introduction = "\n".join(exercise_introduction())
    assert all(quoted in introduction for quoted in setting), setting
    assert set(ablation.FULL_MODE) <= set(ablation.VARIANTS)


def test_the_changes_do_not_depend_on_the_cells_indentation() -> None:
    """The model's cell indented otherwise (half as deep): each variant's changes are all made, and
    give the same code as on the cell as it is, indented the same way; lines that a change adds take
    the indentation of the line they replace."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    (index,) = cells_tagged(notebook, "model")
    source = notebook.cells[index].source

    def shallower(code: str) -> str:
        return re.sub(r"(?m)^( +)", lambda spaces: " " * (len(spaces.group(1)) // 2), code)

    for name, edits in ablation.VARIANTS.items():
        edits = [edit for edit in edits if edit[0] == "model"]
        made, made_shallower = set(), set()
        edited = apply_edits(source, ["model"], edits, made)
        assert shallower(edited) == apply_edits(shallower(source), ["model"], edits, made_shallower)
        assert made == made_shallower == set(edits), name
        compile(edited, name, "exec")
    dropout = apply_edits(
        source, ["model"], ablation.VARIANTS["dropout 0.4 before the output layer"], set()
    )
    indents = {
        line[: len(line) - len(line.lstrip())]
        for line in dropout.splitlines()
        if "Dropout" in line or "Dense(10" in line
    }
    assert len(indents) == 1


def test_the_smoke_run_makes_every_exercises_change_and_writes_its_figures() -> None:
    result = ablation.main(["--smoke"])
    assert result["mode"] == {
        "name": "smoke",
        "epochs": 1,
        "train_samples": 512,
        "validation_samples": 6000,
    }
    runs = {run["variant"]: run for run in result["runs"]}
    assert list(runs) == ["the recipe", *ablation.EXERCISES]
    for run in runs.values():  # each accuracy a share of the images it is measured on
        assert share_of(run["val_accuracy"], 6000) and share_of(run["train_accuracy"], 512)
        assert share_of(run["moved_val_accuracy"], 6000)
        assert share_of(run["shifted_val_accuracy"], 4 * 6000)  # moved 4 ways, averaged
        assert abs(run["untrained_loss"] - 2.30) < 0.1 and run["train_loss"] > 0
        assert run["seconds"] > 0
    recipe = runs["the recipe"]
    assert recipe["params"] == RECIPE_PARAMS and share_of(recipe["inverted_val_accuracy"], 6000)
    assert all("inverted_val_accuracy" not in run for run in result["runs"][1:])
    assert recipe["label_smoothing"] == 0.1 and runs["no label smoothing"]["label_smoothing"] == 0
    shapes = runs["first filters 3×3"]["output_shapes"]
    assert shapes[3] == [26, 26, 32]  # after the three augmentation layers: 28 − 3 + 1
    assert runs["first filters 3×3"]["params"] == RECIPE_PARAMS - (25 - 9) * 32
    assert runs["no augmentation"]["output_shapes"][0] == [
        24,
        24,
        32,
    ]  # the convolution comes first
    channels = (
        32 + 64 + 64 + 128
    )  # each batch normalisation had 4 numbers per channel; a bias has 1
    assert runs["no batch normalisation"]["params"] == RECIPE_PARAMS - 4 * channels + channels
    written = json.loads((output_root() / "outputs" / "ablation_smoke.json").read_text())
    for key in ("val_accuracy", "shifted_val_accuracy", "moved_val_accuracy"):  # one seed
        assert {name: summary["mean"] for name, summary in written[key].items()} == {
            name: run[key] for name, run in runs.items()
        }


def share_of(accuracy: float, images: int) -> bool:
    """Whether ``accuracy`` is a share of ``images`` images: a whole number of them read right
    (Keras counts in float32, a few millionths off)."""
    right = accuracy * images
    return 0 <= right <= images and abs(right - round(right)) < 0.01


def test_a_stopped_run_resumes_where_it_stopped(tmp_path: Path, monkeypatch) -> None:
    """Each run keeps its own result file; started again, the script reads back the runs done and
    runs only the others."""
    monkeypatch.setenv("MNIST_OUTPUT_ROOT", str(tmp_path))
    done = tmp_path / "outputs" / "ablation" / "smoke" / "the-recipe_seed42.json"
    done.parent.mkdir(parents=True)
    kept = {"variant": "the recipe", "seed": 42, "val_accuracy": 0.5, "train_accuracy": 0.5}
    kept |= {
        "train_loss": 1.0,
        "untrained_loss": 2.3,
        "train_samples": 512,
        "validation_samples": 6000,
    }
    kept |= {"params": 1, "output_shapes": [[28, 28, 1]]}
    done.write_text(json.dumps(kept))
    ran = []
    monkeypatch.setattr(ablation, "setup", lambda epochs, samples: {})
    monkeypatch.setattr(
        ablation,
        "run",
        lambda base, variant, seed: ran.append(variant) or dict(kept, variant=variant),
    )
    result = ablation.main(["--smoke"])
    assert ran == list(ablation.EXERCISES)  # the recipe's run was read back
    assert result["runs"][0] == kept


def test_full_mode_refuses_the_variables_that_change_the_notebooks_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Full mode measures the notebook's own settings: MNIST_QUICK, MNIST_EPOCHS or
    MNIST_TRAIN_SAMPLES in the environment stops it before anything runs, naming the variable;
    the exercises' setting goes on."""
    measured = []
    monkeypatch.setattr(ablation, "measure", lambda *args: measured.append(args) or {})
    for name in runs.OVERRIDES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MNIST_QUICK", "1")
    with pytest.raises(SystemExit, match="but MNIST_QUICK would change them"):
        ablation.main(["--full"])
    assert not measured
    ablation.main([])
    assert [args[0] for args in measured] == ["exercises"]


def test_the_modes_take_their_settings_from_where_they_are_stated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Full mode's epochs are the notebook's own, read from its cells (stubbed here with another
    value); the exercises' setting is EXERCISE_SETTINGS (which sections 25 and 26 quote); --epochs
    measures other budgets of full mode, each under its own name; the measurements follow them."""
    measured = []
    monkeypatch.setattr(ablation, "measure", lambda *args: measured.append(args) or {})
    monkeypatch.setattr(ablation, "notebook_settings", lambda quick: {"EPOCHS": 7 - 5 * quick})
    monkeypatch.setattr(ablation, "EXERCISE_SETTINGS", {"EPOCHS": 2, "TRAIN_SAMPLES": 32})
    for name in runs.OVERRIDES:
        monkeypatch.delenv(name, raising=False)
    ablation.main(["--seeds", "42"])
    ablation.main(["--full", "--seeds", "42"])
    ablation.main(["--full", "--seeds", "42", "--epochs", "4", "7", "--variants", "the recipe"])
    assert measured == [
        ("exercises", [42], 2, 32, [v for v in ablation.VARIANTS if v not in ablation.EXPERIMENTS]),
        ("full", [42], 7, None, list(ablation.FULL_MODE)),
        ("full-4epochs", [42], 4, None, ["the recipe"]),
        ("full", [42], 7, None, ["the recipe"]),
    ]


def test_the_one_resampling_experiment_replaces_the_three_random_layers(
    notebook_functions: dict,
) -> None:
    """The candidate augmentation (run only when asked for) applies to the notebook's cells as they
    stand: one layer in place of the three, which leaves an image alone outside training and moves
    it in training, keeping its shape."""
    edits = ablation.EXPERIMENTS["augmentation in one resampling"]
    namespace = run_tagged_cells("augmentation", namespace=dict(notebook_functions), edits=edits)
    (layer,) = namespace["augmentation_layers"]()
    images = (notebook_functions["train_images"][:8, :, :, np.newaxis] / 255).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(layer(images, training=False)), images)
    moved = np.asarray(layer(images, training=True))
    assert moved.shape == images.shape and not np.allclose(moved, images)
    assert "augmentation in one resampling" not in ablation.FULL_MODE


def test_digits_are_moved_by_whole_pixels_with_black_filling_in() -> None:
    """The robustness measure: each validation image moved 3 pixels up, down, left and right, the
    uncovered edge black, and the four accuracies averaged."""
    seen = []

    class Model:
        def evaluate(self, images, labels, verbose):
            seen.append(images.copy())
            return [0.0, len(seen) / 10]

    images = np.ones((2, 28, 28, 1), np.float32)
    assert ablation.shifted_accuracy(Model(), images, None) == pytest.approx(0.25)
    down, up, right, left = seen
    assert down[:, :3].max() == 0 and down[:, 3:].min() == 1
    assert up[:, -3:].max() == 0 and up[:, :-3].min() == 1
    assert right[:, :, :3].max() == 0 and right[:, :, 3:].min() == 1
    assert left[:, :, -3:].max() == 0 and left[:, :, :-3].min() == 1
    assert images.min() == 1  # the validation images themselves are not changed
