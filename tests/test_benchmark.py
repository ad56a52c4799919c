"""benchmarks/compare.py: the reference is trained exactly as keras.io publishes it, the curve arithmetic is
right, papermill's parameters reach the notebook's knobs, and the JSON that a run writes has every field.
The runs themselves are measurements, not tests: here they are stubbed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import papermill
import pytest
from notebook_helpers import NOTEBOOK, ROOT, run_tagged_cells

sys.path.insert(0, str(ROOT / "benchmarks"))
import compare


def test_reference_model_is_the_published_one() -> None:
    model = compare.reference_model()
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense"]
    conv1, _, conv2, _, _, dropout, dense = model.layers
    assert (conv1.filters, conv1.kernel_size, conv1.activation.__name__) == (32, (3, 3), "relu")
    assert (conv2.filters, conv2.kernel_size, conv2.activation.__name__) == (64, (3, 3), "relu")
    assert dropout.rate == 0.5
    assert (dense.units, dense.activation.__name__) == (10, "softmax")
    assert model.count_params() == 34_826


def test_reference_is_trained_with_the_published_recipe(monkeypatch: pytest.MonkeyPatch) -> None:
    """What reaches Keras's fit: Adam with Keras's defaults, categorical cross-entropy, batches of 128, 10%
    validation, the epochs asked for (keras.io: 15)."""
    assert compare.REFERENCE["epochs"] == 15
    seen = {}
    fit = compare.keras.Model.fit

    def spy(model, *args, **kwargs):
        seen.update(kwargs, optimizer=model.optimizer, loss=model.loss)
        return fit(model, *args, **kwargs)

    monkeypatch.setattr(compare.keras.Model, "fit", spy)
    rng = np.random.default_rng(0)
    x = rng.random((300, 28, 28, 1), dtype=np.float32)
    y = compare.keras.utils.to_categorical(rng.integers(0, 10, 300), 10)
    progress = compare.Progress([("reference", 2)])
    progress.next_run("reference, 300 random images")
    _, row = compare.train_reference(7, 2, (x, y, x[:50], y[:50]), progress)
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
    assert compare.time_to_accuracy(points, 0.993) == pytest.approx((250.0, "interpolated"))
    assert compare.time_to_accuracy(points, 0.985) == (100.0, "at most")
    assert compare.time_to_accuracy(points, 0.999) == (None, "not reached")


def test_progress_reads_the_epochs_that_keras_prints() -> None:
    progress = compare.Progress([("notebook", 2)])
    progress.next_run("notebook")
    lines = compare.EpochLines(progress)
    lines.write("Epoch 1/2\n422/422 - 13s - 30ms/step - accuracy: 0.8138 - loss: 1.0219 - val_accu")
    lines.write("racy: 0.9840\nEpoch 2/2\n422/422 - 11s - 26ms/step - accuracy: 0.97\n")
    assert (lines.epoch, progress.epoch) == (2, 2)
    assert progress.seconds_per_epoch["notebook"] == pytest.approx(0.7 * 13 + 0.3 * 11)


def test_papermill_parameters_reach_the_knobs() -> None:
    """compare.py sets the notebook's knobs with papermill: its cell lands after the parameters cell and
    before the setup, which then keeps the injected values."""
    injected = papermill.parameterize.parameterize_notebook(
        papermill.iorw.load_notebook_node(str(NOTEBOOK)), {"QUICK": True, "EPOCHS": 2, "SEED": 7}
    )
    code = [cell for cell in injected.cells if cell.cell_type == "code"]
    tags = [cell.metadata.get("tags", []) for cell in code]
    where = tags.index(["injected-parameters"])
    assert "parameters" in tags[where - 1] and "setup" in tags[where + 1]
    namespace = run_tagged_cells("parameters")
    exec(code[where].source, namespace)
    namespace = run_tagged_cells("setup", namespace=namespace)
    assert (namespace["QUICK"], namespace["EPOCHS"], namespace["SEED"]) == (True, 2, 7)


def test_a_run_writes_every_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A --quick run with the training stubbed: the shape of benchmark.json, and the curve's picture."""
    monkeypatch.setattr(compare, "OUTPUTS", tmp_path / "outputs")
    monkeypatch.setattr(compare, "RUNS", tmp_path / "outputs" / "benchmark")
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 28, 28, 1), dtype=np.float32), np.eye(10)[rng.integers(0, 10, 64)]
    monkeypatch.setattr(compare, "load_data", lambda: (x, y, x, y))

    class Model:
        def count_params(self) -> int:
            return 34_826

    def train_reference(seed, epochs, data, progress):
        curve = [{"epoch": 1, "train_seconds": 9.0, "test_accuracy": 0.95, "seed": seed}]
        return Model(), {"seed": seed, "test_accuracy": 0.95, "train_seconds": 9.0, "curve": curve}

    def run_notebook(label, parameters, env, progress):
        assert parameters["QUICK"] and parameters["EPOCHS"] == 1 and env["KERAS_BACKEND"] == "tensorflow"
        history = [{"epoch": 1, "seconds": 20.0}]
        return {"test_accuracy": 0.96, "val_accuracy": 0.96, "train_seconds": 20.0, "params": 189_610,
                "device": "CPU", "versions": {"keras": "3"}, "history": history, "steps_per_epoch": 47,
                "parameters": {"epochs": 1, "train_samples": 6000}}  # fmt: skip

    timing = {"images_per_second": 1e4, "images_per_second_range": [9e3, 1.1e4], "latency_ms": 0.5}
    monkeypatch.setattr(compare, "train_reference", train_reference)
    monkeypatch.setattr(compare, "run_notebook", run_notebook)
    monkeypatch.setattr(compare.keras.models, "load_model", lambda path, compile: Model())
    monkeypatch.setattr(compare, "time_inference", lambda models, x, repeats: dict.fromkeys(models, timing))
    compare.main(["--quick"])

    result = json.loads((tmp_path / "outputs" / "benchmark.json").read_text())
    for name in ("reference", "notebook"):
        row = result[name]
        assert {"test_accuracy", "test_accuracy_min", "test_accuracy_max", "train_seconds_median"} <= set(row)
        assert {"images_per_second", "latency_ms", "params", "epochs", "seeds"} <= set(row)
        assert [set(s) >= {"seed", "test_accuracy", "train_seconds"} for s in row["seeds"]] == [True]
        assert all({"train_seconds", "test_accuracy"} <= set(p) for p in result["curve"][name])
    assert (
        result["reference"]["recipe"]["dropout"] == 0.5
        and result["reference"]["recipe"]["train_images"] == 64
    )
    assert result["train_time_ratio"] == pytest.approx(20 / 9)
    assert (result["time_to_reference"], result["time_to_reference_seconds"]) == ("at most", 20.0)
    assert result["backends"]["tensorflow"]["seconds_per_step"] == pytest.approx(20 / 47)
    assert (tmp_path / "outputs" / "benchmark.png").stat().st_size > 10_000
