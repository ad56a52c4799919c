"""Benchmark: the notebook's model against the keras.io "Simple MNIST convnet", on this machine.

    python benchmarks/compare.py            # full: reference 15 epochs, notebook in full mode
    python benchmarks/compare.py --quick    # smoke run: 1 reference epoch, notebook in quick mode

In one invocation it (a) trains the keras.io reference exactly as published
(https://keras.io/examples/vision/mnist_convnet/), (b) executes the notebook with nbclient and reads the
``outputs/metrics.json`` it writes, then times inference for both models: throughput predicting the
10,000 test images, and the median latency of 100 single-image predictions. It prints a table and
writes ``outputs/benchmark.json``. Set MNIST_OUTPUT_ROOT to write models/ and outputs/ elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import nbformat
import numpy as np
from keras import layers
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_ROOT = Path(os.environ.get("MNIST_OUTPUT_ROOT", ROOT))


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST preprocessed as keras.io does it: (N, 28, 28, 1) float32 in [0, 1], one-hot labels."""
    with np.load(ROOT / "data" / "mnist.npz", allow_pickle=False) as data:
        x_train, y_train, x_test, y_test = (data[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    x_train = np.expand_dims(x_train.astype("float32") / 255, -1)
    x_test = np.expand_dims(x_test.astype("float32") / 255, -1)
    return x_train, keras.utils.to_categorical(y_train, 10), x_test, keras.utils.to_categorical(y_test, 10)


def reference_model() -> keras.Model:
    """The keras.io "Simple MNIST convnet", layer for layer."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


def train_reference(epochs: int, data: tuple) -> tuple[keras.Model, dict]:
    x_train, y_train, x_test, y_test = data
    keras.utils.set_random_seed(42)
    model = reference_model()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=128, epochs=epochs, validation_split=0.1, verbose=2)
    train_seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return model, {
        "model": "keras.io reference",
        "params": model.count_params(),
        "epochs": epochs,
        "train_seconds": train_seconds,
        "test_accuracy": float(accuracy),
    }


def run_notebook(quick: bool) -> dict:
    """Execute the notebook (nbclient, a fresh kernel); return the metrics.json that it writes.

    The executed copy goes to outputs/mnist_cnn.ipynb, with clean metadata (no timings), so that a full
    run can also serve as the committed notebook.
    """
    os.environ["MNIST_QUICK"] = "1" if quick else "0"
    os.environ["MNIST_OUTPUT_ROOT"] = str(OUTPUT_ROOT.resolve())  # the kernel inherits both
    notebook = nbformat.read(ROOT / "notebooks" / "mnist_cnn.ipynb", as_version=4)
    client = NotebookClient(
        notebook, timeout=None, record_timing=False, resources={"metadata": {"path": str(ROOT / "notebooks")}}
    )
    client.execute()
    nbformat.write(notebook, OUTPUT_ROOT / "outputs" / "mnist_cnn.ipynb")
    metrics = json.loads((OUTPUT_ROOT / "outputs" / "metrics.json").read_text())
    return {
        "model": "notebook",
        "params": metrics["params"],
        "epochs": metrics["parameters"]["epochs"],
        "train_seconds": metrics["train_seconds"],
        "test_accuracy": metrics["test_accuracy"],
    }


def time_inference(model: keras.Model, x_test: np.ndarray) -> dict:
    """Throughput over the test set (batches of 256) and median single-image latency (100 calls)."""
    model.predict(x_test[:256], batch_size=256, verbose=0)  # warm-up: build and trace the function
    start = time.perf_counter()
    model.predict(x_test, batch_size=256, verbose=0)
    images_per_second = len(x_test) / (time.perf_counter() - start)
    latencies = []
    for i in range(101):
        start = time.perf_counter()
        model.predict_on_batch(x_test[i : i + 1])
        latencies.append(time.perf_counter() - start)
    return {"images_per_second": images_per_second, "latency_ms": 1000 * statistics.median(latencies[1:])}


def print_table(rows: list[dict]) -> None:
    header = f"{'model':<20} {'params':>8} {'epochs':>6} {'train s':>8} {'test acc':>9}"
    header += f" {'images/s':>9} {'ms/image':>9}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['model']:<20} {r['params']:>8,} {r['epochs']:>6} {r['train_seconds']:>8.1f} "
            f"{r['test_accuracy']:>9.2%} {r['images_per_second']:>9,.0f} {r['latency_ms']:>9.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run, not a measurement")
    args = parser.parse_args()

    data = load_data()
    print("(a) training the keras.io reference", flush=True)
    reference, reference_row = train_reference(1 if args.quick else 15, data)
    print("(b) running the notebook", flush=True)
    notebook_row = run_notebook(args.quick)
    notebook = keras.models.load_model(OUTPUT_ROOT / "models" / "mnist_cnn.keras", compile=False)

    reference_row |= time_inference(reference, data[2])
    notebook_row |= time_inference(notebook, data[2])
    rows = [reference_row, notebook_row]
    print()
    print_table(rows)
    time_ratio = notebook_row["train_seconds"] / reference_row["train_seconds"]
    accuracy_gain = notebook_row["test_accuracy"] - reference_row["test_accuracy"]
    print(f"\ntraining time, notebook / reference: {time_ratio:.2f}x")
    print(f"test accuracy, notebook - reference: {100 * accuracy_gain:+.2f} percentage points")

    metrics = json.loads((OUTPUT_ROOT / "outputs" / "metrics.json").read_text())
    result = {
        "quick": args.quick,
        "device": metrics["device"],
        "versions": metrics["versions"],
        "reference": reference_row,
        "notebook": notebook_row,
        "train_time_ratio": time_ratio,
        "accuracy_difference": accuracy_gain,
    }
    out = OUTPUT_ROOT / "outputs" / "benchmark.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out.relative_to(OUTPUT_ROOT).as_posix()}")


if __name__ == "__main__":
    main()
