"""benchmarks/compare.py and its parts: the reference is trained exactly as keras.io publishes it,
the curve arithmetic is right, the progress reads the notebook's epochs, a stopped benchmark
resumes, and the JSON that a run writes has every field. The runs themselves are measurements, not
tests: here they are stubbed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from benchmarks import compare, reference, runs
from benchmarks.progress import EpochLines, Progress
from benchmarks.timing import time_to_accuracy
from notebooks.notebook_tools import notebook_settings
from tests.helpers import RECIPE_PARAMS


def test_reference_model_is_the_published_one() -> None:
    model = reference.reference_model()
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dropout",
        "Dense",
    ]
    conv1, _, conv2, _, _, dropout, dense = model.layers
    assert (conv1.filters, conv1.kernel_size, conv1.activation.__name__) == (32, (3, 3), "relu")
    assert (conv2.filters, conv2.kernel_size, conv2.activation.__name__) == (64, (3, 3), "relu")
    assert dropout.rate == 0.5
    assert (dense.units, dense.activation.__name__) == (10, "softmax")
    assert model.count_params() == 34_826


def test_reference_is_trained_with_the_published_recipe(monkeypatch: pytest.MonkeyPatch) -> None:
    """What reaches Keras's fit: Adam with Keras's defaults, categorical cross-entropy, batches of
    128, 10% validation, the epochs asked for (keras.io: 15)."""
    assert reference.REFERENCE["epochs"] == 15
    seen = {}
    fit = reference.keras.Model.fit

    def spy(model, *args, **kwargs):
        seen.update(kwargs, optimizer=model.optimizer, loss=model.loss)
        return fit(model, *args, **kwargs)

    monkeypatch.setattr(reference.keras.Model, "fit", spy)
    rng = np.random.default_rng(0)
    x = rng.random((300, 28, 28, 1), dtype=np.float32)
    y = reference.keras.utils.to_categorical(rng.integers(0, 10, 300), 10)
    progress = Progress([("reference", 2)])
    progress.next_run("reference, 300 random images")
    _, row = reference.train_reference(7, 2, (x, y, x[:50], y[:50]), progress)
    assert (seen["batch_size"], seen["validation_split"], seen["epochs"]) == (128, 0.1, 2)
    assert type(seen["optimizer"]).__name__ == "Adam" and seen["loss"] == "categorical_crossentropy"
    assert float(seen["optimizer"].learning_rate) == pytest.approx(0.001)  # Keras's default
    assert [p["epoch"] for p in row["curve"]] == [1, 2] and row["seed"] == 7


def test_time_to_accuracy_interpolates_between_runs() -> None:
    points = [
        {"train_seconds": 100.0, "test_accuracy": 0.990},
        {"train_seconds": 300.0, "test_accuracy": 0.994},
        {"train_seconds": 200.0, "test_accuracy": 0.992},
    ]
    assert time_to_accuracy(points, 0.993) == pytest.approx((250.0, "interpolated"))
    assert time_to_accuracy(points, 0.985) == (100.0, "at most")
    assert time_to_accuracy(points, 0.999) == (None, "not reached")


def test_progress_reads_the_cnns_epochs_from_keras_own_lines() -> None:
    """With verbose=2 Keras prints "Epoch k/N" as each epoch starts (when N > 1) and one line of
    steps and seconds as it ends. The dense baseline trains first, for its own number of epochs:
    only a training of the run's planned epochs is the CNN's. Nothing the notebook prints is
    read."""
    progress = Progress([("notebook", 2)])
    progress.next_run("notebook")
    lines = EpochLines(progress)
    for epoch in range(1, 6):
        lines.write(f"Epoch {epoch}/5\n422/422 - 2s - 4ms/step - accuracy: 0.9\n")
    assert (lines.epoch, progress.epoch) == (0, 0)  # the baseline's epochs
    lines.write("Epoch 1/2\n422/422 - 13s - 30ms/step - accuracy: 0.8138 - loss: 1.0219 - val_accu")
    lines.write("racy: 0.9840\nEpoch 2/2\n422/422 - 11s - 26ms/step - accuracy: 0.97\n")
    assert (lines.epoch, progress.epoch) == (2, 2)
    assert progress.seconds_per_epoch["notebook"] == pytest.approx(0.7 * 13 + 0.3 * 11)


def test_progress_reads_a_single_epoch_which_keras_does_not_number() -> None:
    progress = Progress([("quick", 1)])
    progress.next_run("quick")
    lines = EpochLines(progress)
    for epoch in range(1, 6):
        lines.write(f"Epoch {epoch}/5\n47/47 - 1s - 9ms/step - accuracy: 0.9\n")
    lines.write("47/47 - 6s - 120ms/step - accuracy: 0.8\n")
    assert (lines.epoch, progress.epoch, progress.seconds_per_epoch["quick"]) == (1, 1, 6.0)


def test_a_finished_run_is_read_back_not_run_again(tmp_path: Path) -> None:
    calls = []
    result = runs.cached(tmp_path / "run.json", lambda: calls.append(1) or {"score": 0.9})
    again = runs.cached(tmp_path / "run.json", lambda: calls.append(1) or {"score": 0.1})
    assert result == again == {"score": 0.9} and calls == [1]
    assert not list(tmp_path.glob("*.partial"))


class StubModel:
    """Stands for the reference's trained model: its size, and a file when saved."""

    def count_params(self) -> int:
        return 34_826

    def save(self, path: Path) -> None:
        Path(path).write_text("a model")


def stub_reference(accuracy: float, seconds: float):
    """A stand-in for reference.train_reference: one epoch's curve and the given scores."""

    def train_reference(seed, epochs, data, progress):
        curve = [{"epoch": 1, "train_seconds": seconds, "test_accuracy": accuracy, "seed": seed}]
        row = {"seed": seed, "test_accuracy": accuracy, "train_seconds": seconds, "curve": curve}
        return StubModel(), row

    return train_reference


def test_a_run_writes_every_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A --quick run with the training stubbed: the shape of benchmark.json, and the curve's
    picture."""
    monkeypatch.setenv("MNIST_OUTPUT_ROOT", str(tmp_path))
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 28, 28, 1), dtype=np.float32), np.eye(10)[rng.integers(0, 10, 64)]
    monkeypatch.setattr(reference, "load_data", lambda: (x, y, x, y))

    Model, train_reference = StubModel, stub_reference(0.95, 9.0)

    def run_notebook(label, parameters, env, progress, output_root):
        progress.next_run(label)
        assert (
            parameters["QUICK"]
            and parameters["EPOCHS"] == 1
            and env["KERAS_BACKEND"] == "tensorflow"
        )
        history = [{"epoch": 1, "seconds": 20.0}]
        scores = {"test_accuracy": 0.96, "val_accuracy": 0.96, "baseline_val_accuracy": 0.9}
        run = {
            "train_seconds": 20.0,
            "params": RECIPE_PARAMS,
            "device": "CPU",
            "versions": {"keras": "3"},
        }
        run |= {"history": history, "steps_per_epoch": 47}
        return scores | run | {"parameters": {"epochs": 1, "train_samples": 6000}}

    timing = {"images_per_second": 1e4, "images_per_second_range": [9e3, 1.1e4], "latency_ms": 0.5}
    monkeypatch.setattr(reference, "train_reference", train_reference)
    monkeypatch.setattr(compare, "run_notebook", run_notebook)
    monkeypatch.setattr(compare.keras.models, "load_model", lambda path, compile: Model())
    monkeypatch.setattr(
        compare, "time_inference", lambda models, x, repeats: dict.fromkeys(models, timing)
    )
    compare.main(["--quick"])

    result = json.loads((tmp_path / "outputs" / "benchmark.json").read_text())
    for name in ("reference", "notebook"):
        row = result[name]
        assert {
            "test_accuracy",
            "test_accuracy_min",
            "test_accuracy_max",
            "train_seconds_median",
        } <= set(row)
        assert {"images_per_second", "latency_ms", "params", "epochs", "seeds"} <= set(row)
        assert [set(s) >= {"seed", "test_accuracy", "train_seconds"} for s in row["seeds"]] == [
            True
        ]
        assert all({"train_seconds", "test_accuracy"} <= set(p) for p in result["curve"][name])
    assert result["notebook"]["seeds"][0]["baseline_val_accuracy"] == 0.9
    assert (
        result["reference"]["recipe"]["dropout"] == 0.5
        and result["reference"]["recipe"]["train_images"] == 64
    )
    assert result["train_time_ratio"] == pytest.approx(20 / 9)
    assert (result["time_to_reference"], result["time_to_reference_seconds"]) == ("at most", 20.0)
    assert result["backends"]["tensorflow"]["seconds_per_step"] == pytest.approx(20 / 47)
    assert (tmp_path / "outputs" / "benchmark.png").stat().st_size > 10_000
    assert (
        tmp_path / "outputs" / "benchmark" / "reference_seed42.json"
    ).exists()  # kept, for a resume


def test_the_plan_takes_its_epochs_and_images_from_the_notebook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The full mode's epochs, quick mode's epochs (the backend rows) and quick mode's training
    images (the smoke run's reference) are the notebook's own, read from its cells: here the
    notebook's settings are stubbed with other values, and the plan follows them."""
    x, y = np.zeros((100, 28, 28, 1), np.float32), np.zeros((100, 10), np.float32)
    monkeypatch.setattr(reference, "load_data", lambda: (x, y, x[:10], y[:10]))
    settings = {
        False: {"EPOCHS": 7, "TRAIN_SAMPLES": None},
        True: {"EPOCHS": 2, "TRAIN_SAMPLES": 32},
    }
    monkeypatch.setattr(compare, "notebook_settings", lambda quick: settings[quick])
    full = compare.make_plan(compare.arguments(["--budgets"]))
    assert (full.full, full.quick_epochs, len(full.data[0])) == (
        {"QUICK": False, "EPOCHS": 7},
        2,
        100,
    )
    assert [epochs for kind, epochs in full.runs() if kind == "notebook"] == [7, 7, 7]
    smoke = compare.make_plan(compare.arguments(["--quick"]))
    assert len(smoke.data[0]) == len(smoke.data[1]) == 32  # the reference: quick mode's images
    assert len(smoke.data[2]) == 10  # and every test image


def test_quick_mode_runs_beside_full_mode_and_no_budget_is_trained_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A measurement (not a smoke run): each seed trains the reference, full mode and quick mode,
    and the report gives quick mode's seeds beside full mode's; a budget that full or quick mode
    trains on all the images is read from that run; TensorFlow's backend row is quick mode's seed
    42. The training is stubbed."""
    monkeypatch.setenv("MNIST_OUTPUT_ROOT", str(tmp_path))
    for name in runs.OVERRIDES:
        monkeypatch.delenv(name, raising=False)
    x, y = np.zeros((64, 28, 28, 1), np.float32), np.eye(10)[np.arange(64) % 10]
    monkeypatch.setattr(reference, "load_data", lambda: (x, y, x, y))
    settings = {
        False: {"EPOCHS": 7, "TRAIN_SAMPLES": None},
        True: {"EPOCHS": 2, "TRAIN_SAMPLES": None},
    }
    monkeypatch.setattr(compare, "notebook_settings", lambda quick: settings[quick])

    Model, train_reference = StubModel, stub_reference(0.99, 100.0)

    trained = []

    def run_notebook(label, parameters, env, progress, output_root):
        progress.next_run(label, cached=label in [name for name, *_ in trained])
        trained.append((label, parameters["EPOCHS"], env["KERAS_BACKEND"]))
        epochs = parameters["EPOCHS"]
        scores = {"test_accuracy": 0.99 + epochs / 1000, "val_accuracy": 0.99}
        run = {"train_seconds": 10.0 * epochs, "params": RECIPE_PARAMS, "device": "CPU"}
        run |= {"versions": {"keras": "3"}, "baseline_val_accuracy": 0.97}
        run |= {"history": [{"epoch": 1, "seconds": 10.0}], "steps_per_epoch": 422}
        return scores | run | {"parameters": {"epochs": epochs, "train_samples": 54_000}}

    timing = {"images_per_second": 1e4, "images_per_second_range": [9e3, 1.1e4], "latency_ms": 0.5}
    monkeypatch.setattr(reference, "train_reference", train_reference)
    monkeypatch.setattr(compare, "run_notebook", run_notebook)
    monkeypatch.setattr(compare.keras.models, "load_model", lambda path, compile: Model())
    monkeypatch.setattr(
        compare, "time_inference", lambda models, x, repeats: dict.fromkeys(models, timing)
    )
    result = compare.main(["--seeds", "2", "--budgets", "1", "2", "7", "--backend", "tensorflow"])
    assert trained == [
        ("notebook_seed42", 7, "tensorflow"),
        ("quick_seed42", 2, "tensorflow"),
        ("notebook_seed43", 7, "tensorflow"),
        ("quick_seed43", 2, "tensorflow"),
        ("notebook_1epochs", 1, "tensorflow"),
        ("quick_seed42", 2, "tensorflow"),  # the backend row: the same run, read back
    ]
    quick = result["quick_mode"]
    assert [s["seed"] for s in quick["seeds"]] == [42, 43] and quick["epochs"] == 2
    assert quick["test_accuracy"] == pytest.approx(0.992)
    assert result["quick_train_time_ratio"] == pytest.approx(20 / 100)
    budgets = {p["epochs"]: p["test_accuracy"] for p in result["curve"]["notebook"]}
    assert budgets == pytest.approx({1: 0.991, 2: 0.992, 7: 0.997})


def test_a_run_with_the_notebooks_defaults_injects_no_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So that a benchmark's run with the defaults is the learner's run, cell for cell, and
    refresh_notebook can commit it; any other setting is injected."""
    injected = []
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "mnist_cnn.keras").write_text("a model")
    (tmp_path / "outputs").mkdir()
    (tmp_path / "outputs" / "metrics.json").write_text('{"test_accuracy": 0.99}')
    monkeypatch.setattr(
        runs.papermill, "execute_notebook", lambda *a, parameters, **k: injected.append(parameters)
    )
    epochs = notebook_settings(quick=False)["EPOCHS"]
    progress = Progress([("notebook", epochs), ("notebook", epochs)])
    for label, seed in (("defaults", 42), ("seed43", 43)):
        parameters = {"QUICK": False, "EPOCHS": epochs, "SEED": seed}
        assert runs.run_notebook(label, parameters, {}, progress, tmp_path)["test_accuracy"] == 0.99
    assert injected == [None, {"SEED": 43}]


def test_a_run_leaves_the_environment_and_the_folder_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel sees the run's variables and its output folder while it runs; afterwards
    os.environ and the working directory are exactly as they were, whatever the run set, unset or
    changed (papermill is stubbed: it writes what a run writes, and leaves the process in another
    folder)."""
    monkeypatch.chdir(Path.cwd())  # whatever happens, the next test starts where this one did
    monkeypatch.setenv("MNIST_OUTPUT_ROOT", os.environ.get("MNIST_OUTPUT_ROOT", "elsewhere"))
    monkeypatch.setenv("MNIST_EPOCHS", "1")
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    seen = {}

    def execute_notebook(*args, cwd, **kwargs) -> None:
        root = Path(os.environ["MNIST_OUTPUT_ROOT"])
        seen.update(root=root, backend=os.environ.get("KERAS_BACKEND"))
        seen.update(epochs=os.environ.get("MNIST_EPOCHS"))
        (root / "models").mkdir()
        (root / "models" / "mnist_cnn.keras").write_text("a model")
        (root / "outputs").mkdir(exist_ok=True)
        (root / "outputs" / "metrics.json").write_text('{"test_accuracy": 0.9}')
        os.chdir(cwd)

    monkeypatch.setattr(runs.papermill, "execute_notebook", execute_notebook)
    before, folder = dict(os.environ), Path.cwd()
    env = {"KERAS_BACKEND": "jax", "MNIST_EPOCHS": None}
    metrics = runs.run_notebook("leak", {"SEED": 7}, env, Progress([("quick", 1)]), tmp_path)
    assert metrics == {"test_accuracy": 0.9}
    assert seen == {"root": tmp_path, "backend": "jax", "epochs": None}
    assert dict(os.environ) == before and Path.cwd() == folder


def test_full_mode_refuses_the_variables_that_change_the_notebooks_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A full-mode benchmark measures the notebook's own settings: MNIST_QUICK, MNIST_EPOCHS or
    MNIST_TRAIN_SAMPLES in the environment stops it before anything runs, naming the variable."""

    def load_data():
        raise AssertionError("the benchmark started")

    monkeypatch.setattr(reference, "load_data", load_data)
    for name in runs.OVERRIDES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MNIST_TRAIN_SAMPLES", "6000")
    with pytest.raises(SystemExit, match=r"but MNIST_TRAIN_SAMPLES would change them"):
        compare.main([])
    monkeypatch.setenv("MNIST_EPOCHS", "3")
    with pytest.raises(SystemExit, match=r"but MNIST_EPOCHS, MNIST_TRAIN_SAMPLES would change"):
        compare.main(["--seeds", "1"])


def test_refresh_commits_a_run_only_of_the_notebook_as_it_stands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat

    from benchmarks import refresh_notebook
    from notebooks.notebook_tools import NOTEBOOK

    committed = tmp_path / "committed.ipynb"
    committed.write_bytes(NOTEBOOK.read_bytes())
    committed_text = nbformat.read(NOTEBOOK, as_version=4).cells[0].source
    monkeypatch.setattr(refresh_notebook, "NOTEBOOK", committed)
    monkeypatch.setattr(refresh_notebook, "ROOT", tmp_path)

    def run_of(notebook: nbformat.NotebookNode, name: str) -> Path:
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        for count, cell in enumerate(code, start=1):
            cell.execution_count = count
        nbformat.write(notebook, tmp_path / name)
        return tmp_path / name

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    injected = nbformat.read(NOTEBOOK, as_version=4)
    injected.cells.insert(1, nbformat.v4.new_code_cell("SEED = 43", metadata={"tags": ["p"]}))
    with pytest.raises(ValueError, match="not a run of the code"):
        refresh_notebook.use_run(run_of(injected, "injected.ipynb"))
    rerun = run_of(nbformat.read(NOTEBOOK, as_version=4), "rerun.ipynb")
    twice = nbformat.read(rerun, as_version=4)
    next(c for c in twice.cells if c.cell_type == "code").execution_count = 9
    nbformat.write(twice, rerun)
    with pytest.raises(ValueError, match="top to bottom"):
        refresh_notebook.use_run(rerun)
    assert committed.read_bytes() == NOTEBOOK.read_bytes()  # nothing written so far
    notebook.cells[
        0
    ].source += " (an older wording)"  # text cells run nothing: the committed ones stay
    refresh_notebook.use_run(run_of(notebook, "run.ipynb"))
    assert nbformat.read(committed, as_version=4).cells[0].source == committed_text
    code = [c for c in nbformat.read(committed, as_version=4).cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
