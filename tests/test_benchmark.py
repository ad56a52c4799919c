"""benchmarks/compare.py: the reference is trained exactly as keras.io publishes it, the curve arithmetic is
right, and a smoke run (--quick) writes every field that other tools read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from notebook_helpers import ROOT

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
    """Adam with Keras's defaults, categorical cross-entropy, batches of 128, 10% validation, 15 epochs."""
    assert compare.REFERENCE == {
        "epochs": 15,
        "batch_size": 128,
        "validation_split": 0.1,
        "optimizer": "adam",
        "loss": "categorical_crossentropy",
    }
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


def test_benchmark_smoke_run_writes_every_field(tmp_path: Path) -> None:
    """A --quick run (1 epoch of each, one seed, TensorFlow only): the shape of what it writes."""
    env = dict(os.environ, MNIST_OUTPUT_ROOT=str(tmp_path))
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compare.py"), "--quick"], env=env, check=True)
    result = json.loads((tmp_path / "outputs" / "benchmark.json").read_text())
    for name in ("reference", "notebook"):
        row = result[name]
        for key in ("test_accuracy", "test_accuracy_min", "test_accuracy_max"):
            assert 0.9 < row[key] <= 1.0, (name, key)
        for key in ("train_seconds", "train_seconds_median", "images_per_second", "latency_ms"):
            assert row[key] > 0, (name, key)
        assert [set(s) >= {"seed", "test_accuracy", "train_seconds"} for s in row["seeds"]] == [True]
        assert all({"train_seconds", "test_accuracy"} <= set(p) for p in result["curve"][name])
    assert result["reference"]["params"] == 34_826 and result["reference"]["epochs"] == 1
    assert result["reference"]["recipe"]["dropout"] == 0.5
    assert result["reference"]["recipe"]["train_images"] == 18_000  # quick: a part of the 60,000
    # One epoch of each on few images: the notebook may or may not reach the reference; both are written.
    ratio, how = result["time_to_reference_ratio"], result["time_to_reference"]
    assert how in {"at most", "interpolated", "not reached"}
    assert ratio is None if how == "not reached" else ratio > 0
    backend = result["backends"]["tensorflow"]
    assert backend["seconds_per_step"] > 0 and backend["epochs"] == 1 and 0.9 < backend["test_accuracy"] <= 1
    assert (tmp_path / "outputs" / "benchmark.png").stat().st_size > 10_000
    assert (tmp_path / "models" / "mnist_cnn.keras").is_file()
