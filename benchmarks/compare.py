"""Benchmark: the notebook's recipe against the keras.io "Simple MNIST convnet", several seeds, one machine.

    python benchmarks/compare.py                  # 3 seeds, the accuracy/time curve, TensorFlow and JAX rows
    python benchmarks/compare.py --seeds 1        # one seed of each recipe: a shorter run
    python benchmarks/compare.py --quick          # a smoke run of every step, 1 epoch each, fewer images
    python benchmarks/compare.py --backend torch  # the backend rows to measure (repeatable)

In one invocation it:

1. trains the keras.io reference exactly as published (https://keras.io/examples/vision/mnist_convnet/) and
   runs the notebook in full mode (papermill, a fresh kernel), seed after seed, alternating the two so that
   a busy spell of the machine hits both; after each of the reference's epochs a callback records its test
   accuracy (it only records; nothing is chosen by it);
2. runs the notebook's recipe at shorter budgets (1, 2, 4 and 8 epochs, one seed), which gives its
   accuracy against training time; from that curve, the training time it needs to reach the reference's
   final mean accuracy;
3. times inference for both models, alternating, several times: throughput on the 10,000 test images and
   the median latency of single-image predictions;
4. runs the notebook in quick mode on each Keras backend asked for, for the seconds per training step.

It prints its progress (run, epoch, time left), then a table, and writes ``outputs/benchmark.json``,
``outputs/benchmark.png`` (the curve) and, from the seed-42 full run, ``outputs/mnist_cnn.ipynb`` with clean
metadata, fit to be committed as the notebook. Set MNIST_OUTPUT_ROOT to write models/ and outputs/ elsewhere.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import papermill
from keras import layers

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "mnist_cnn.ipynb"
OUTPUT_ROOT = Path(os.environ.get("MNIST_OUTPUT_ROOT", ROOT)).resolve()
OUTPUTS = OUTPUT_ROOT / "outputs"
RUNS = OUTPUTS / "benchmark"  # each run's executed notebook and model
# The keras.io example's training, as published.
REFERENCE = {
    "epochs": 15,
    "batch_size": 128,
    "validation_split": 0.1,
    "optimizer": "adam",
    "loss": "categorical_crossentropy",
}
SEEDS = (42, 43, 44, 45, 46)


class Progress:
    """Which run of how many, the epoch, and an estimate of the time left, one line per epoch."""

    def __init__(self, plan: list[tuple[str, int]]) -> None:
        self.plan = plan  # (kind, epochs) per run
        self.start = time.perf_counter()
        self.seconds_per_epoch = {"reference": 35.0, "notebook": 60.0, "quick": 25.0}  # first guesses
        self.overhead = {"reference": 10.0, "notebook": 90.0, "quick": 60.0}  # per run, beyond its epochs
        self.run = -1

    def next_run(self, label: str) -> None:
        self.run += 1
        self.label, self.run_start, self.epoch = label, time.perf_counter(), 0
        print(
            f"[{self.run + 1}/{len(self.plan)}] {label} ({self.elapsed()} elapsed, {self.left()} left)",
            flush=True,
        )

    def epoch_done(self, epoch: int, seconds: float) -> None:
        kind, epochs = self.plan[self.run]
        self.epoch = epoch
        self.seconds_per_epoch[kind] = (
            seconds if epoch == 1 else 0.7 * self.seconds_per_epoch[kind] + 0.3 * seconds
        )
        print(
            f"  [{self.run + 1}/{len(self.plan)}] {self.label}: epoch {epoch}/{epochs} in {seconds:.0f} s "
            f"({self.elapsed()} elapsed, about {self.left()} left)",
            flush=True,
        )

    def left(self) -> str:
        def cost(kind: str, epochs: int, done: int = 0) -> float:
            return self.seconds_per_epoch[kind] * (epochs - done) + (self.overhead[kind] if done == 0 else 0)

        if self.run < 0:
            seconds = sum(cost(k, e) for k, e in self.plan)
        else:
            kind, epochs = self.plan[self.run]
            seconds = cost(kind, epochs, self.epoch) + sum(cost(k, e) for k, e in self.plan[self.run + 1 :])
        return f"{seconds / 60:.0f} min"

    def elapsed(self) -> str:
        return f"{(time.perf_counter() - self.start) / 60:.0f} min"


class EpochLines:
    """A file-like sink for the notebook's output (papermill's stdout_file) that reports each epoch.

    Keras's verbose=2 prints one line per epoch: "422/422 - 13s - 30ms/step - accuracy: ...".
    """

    def __init__(self, progress: Progress) -> None:
        self.progress, self.epoch, self.buffer = progress, 0, ""

    def write(self, text: str) -> None:
        self.buffer += text
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            seconds = re.match(r"\d+/\d+ - (\d+)s - .*step", line.strip())
            if seconds:
                self.epoch += 1
                self.progress.epoch_done(self.epoch, float(seconds.group(1)))

    def flush(self) -> None:
        pass


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


class TestCurve(keras.callbacks.Callback):
    """After each epoch, record the training seconds so far and the test accuracy. It only records: it
    changes nothing in training and selects nothing; its own evaluation time is not counted as training."""

    def __init__(self, x_test: np.ndarray, y_test: np.ndarray, progress: Progress) -> None:
        super().__init__()
        self.x_test, self.y_test, self.progress = x_test, y_test, progress
        self.train_seconds, self.points = 0.0, []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.start
        self.train_seconds += seconds
        _, accuracy = self.model.evaluate(self.x_test, self.y_test, verbose=0)
        self.points.append(
            {"epoch": epoch + 1, "train_seconds": self.train_seconds, "test_accuracy": accuracy}
        )
        self.progress.epoch_done(epoch + 1, seconds)


def train_reference(seed: int, epochs: int, data: tuple, progress: Progress) -> tuple[keras.Model, dict]:
    x_train, y_train, x_test, y_test = data
    keras.utils.set_random_seed(seed)
    model = reference_model()
    model.compile(loss=REFERENCE["loss"], optimizer=REFERENCE["optimizer"], metrics=["accuracy"])
    curve = TestCurve(x_test, y_test, progress)
    model.fit(
        x_train,
        y_train,
        batch_size=REFERENCE["batch_size"],
        epochs=epochs,
        validation_split=REFERENCE["validation_split"],
        callbacks=[curve],
        verbose=0,
    )
    final = curve.points[-1]
    row = {"seed": seed, "test_accuracy": float(final["test_accuracy"]), "train_seconds": curve.train_seconds}
    return model, dict(row, curve=[dict(p, seed=seed) for p in curve.points])


def run_notebook(label: str, parameters: dict, env: dict[str, str | None], progress: Progress) -> dict:
    """Execute the notebook with papermill in a fresh kernel (which inherits ``env``); its metrics.json."""
    RUNS.mkdir(parents=True, exist_ok=True)
    saved = {key: os.environ.get(key) for key in env}
    for key, value in env.items():  # None: unset
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        papermill.execute_notebook(
            NOTEBOOK,
            RUNS / f"{label}.ipynb",
            parameters=parameters,
            cwd=NOTEBOOK.parent,
            progress_bar=False,
            stdout_file=EpochLines(progress),
            store_widget_state=False,
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    shutil.copy(OUTPUT_ROOT / "models" / "mnist_cnn.keras", RUNS / f"{label}.keras")
    return json.loads((OUTPUTS / "metrics.json").read_text())


def clean_copy(executed: Path, target: Path) -> None:
    """The executed notebook as it is committed: papermill's metadata removed, as `jupyter nbconvert
    --execute` leaves it, and the drawing pad's widget view reduced to its text (with no kernel behind it,
    JupyterLab would show "Error displaying widget" instead)."""
    notebook = nbformat.read(executed, as_version=4)
    notebook.metadata = {key: notebook.metadata[key] for key in ("kernelspec", "language_info")}
    for cell in notebook.cells:
        cell.metadata = {
            key: cell.metadata[key] for key in ("tags", "jupyter", "cellView") if key in cell.metadata
        }
        for output in cell.get("outputs", []):
            output.get("data", {}).pop("application/vnd.jupyter.widget-view+json", None)
    nbformat.write(notebook, target)


def time_inference(models: dict[str, keras.Model], x_test: np.ndarray, repeats: int) -> dict:
    """Throughput (batches of 256 over the test set) and single-image latency, alternating the models."""
    for model in models.values():  # warm-up: build and trace the functions
        model.predict(x_test[:256], batch_size=256, verbose=0)
        model.predict_on_batch(x_test[:1])
    rates = {name: [] for name in models}
    latencies = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            start = time.perf_counter()
            model.predict(x_test, batch_size=256, verbose=0)
            rates[name].append(len(x_test) / (time.perf_counter() - start))
            single = []
            for i in range(100):
                start = time.perf_counter()
                model.predict_on_batch(x_test[i : i + 1])
                single.append(time.perf_counter() - start)
            latencies[name].append(1000 * statistics.median(single))
    return {
        name: {
            "images_per_second": statistics.median(rates[name]),
            "images_per_second_range": [min(rates[name]), max(rates[name])],
            "latency_ms": statistics.median(latencies[name]),
            "latency_ms_range": [min(latencies[name]), max(latencies[name])],
        }
        for name in models
    }


def time_to_accuracy(points: list[dict], target: float) -> tuple[float | None, str]:
    """Training seconds at which the curve first reaches ``target``, interpolating linearly between runs."""
    points = sorted(points, key=lambda p: p["train_seconds"])
    for i, point in enumerate(points):
        if point["test_accuracy"] >= target:
            if i == 0:
                return point["train_seconds"], "at most"  # the shortest run is already there
            before = points[i - 1]
            share = (target - before["test_accuracy"]) / (point["test_accuracy"] - before["test_accuracy"])
            return before["train_seconds"] + share * (
                point["train_seconds"] - before["train_seconds"]
            ), "interpolated"
    return None, "not reached"


def backend_row(metrics: dict) -> dict:
    """Seconds per training step (the median epoch after the first, which also compiles) and accuracy."""
    seconds = [epoch["seconds"] for epoch in metrics["history"]]
    return {
        "seconds_per_step": statistics.median(seconds[1:] or seconds) / metrics["steps_per_epoch"],
        "first_epoch_seconds": seconds[0],
        "test_accuracy": metrics["test_accuracy"],
        "epochs": metrics["parameters"]["epochs"],
        "train_samples": metrics["parameters"]["train_samples"],
    }


def recipe_row(name: str, params: int, epochs: int, seeds: list[dict]) -> dict:
    accuracies = [s["test_accuracy"] for s in seeds]
    seconds = [s["train_seconds"] for s in seeds]
    return {
        "model": name,
        "params": params,
        "epochs": epochs,
        "seeds": seeds,
        "test_accuracy": statistics.mean(accuracies),
        "test_accuracy_min": min(accuracies),
        "test_accuracy_max": max(accuracies),
        "train_seconds": statistics.mean(seconds),
        "train_seconds_median": statistics.median(seconds),
    }


def plot_curve(curve: dict, reference_accuracy: float, reached: float | None, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for seed in sorted({p["seed"] for p in curve["reference"]}):
        points = [p for p in curve["reference"] if p["seed"] == seed]
        ax.plot(
            [p["train_seconds"] for p in points],
            [100 * p["test_accuracy"] for p in points],
            "o-",
            color="tab:blue",
            alpha=0.6,
            ms=3,
            label=f"keras.io reference, after each epoch (seed {seed})",
        )
    budgets = sorted(
        (p for p in curve["notebook"] if p["kind"] == "budget"), key=lambda p: p["train_seconds"]
    )
    full = [p for p in curve["notebook"] if p["kind"] == "full"]
    ax.plot(
        [p["train_seconds"] for p in budgets],
        [100 * p["test_accuracy"] for p in budgets],
        "s-",
        color="tab:orange",
        label="this notebook, one run per budget ("
        + ", ".join(str(p["epochs"]) for p in budgets)
        + " epochs, seed 42)",
    )
    ax.plot(
        [p["train_seconds"] for p in full],
        [100 * p["test_accuracy"] for p in full],
        "D",
        color="tab:red",
        label=f"this notebook, full run ({full[0]['epochs']} epochs), seeds "
        + ", ".join(str(p["seed"]) for p in full),
    )
    ax.axhline(100 * reference_accuracy, color="gray", ls="--", lw=1, label="reference's final mean accuracy")
    if reached is not None:
        ax.axvline(reached, color="gray", ls=":", lw=1, label=f"notebook reaches it: {reached:.0f} s")
    low = min(100 * p["test_accuracy"] for p in curve["notebook"] + curve["reference"])
    ax.set_ylim(max(low - 0.1, 97.0), 100.0)
    ax.set_title("Test accuracy against training time (2-core CPU)")
    ax.set_xlabel("training seconds")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of every step, not a measurement")
    parser.add_argument(
        "--seeds", type=int, default=None, help="seeds per recipe (default 3; 1 with --quick)"
    )
    parser.add_argument(
        "--backend",
        action="append",
        choices=["tensorflow", "jax", "torch"],
        help="a backend to measure in quick mode (default: tensorflow, and jax when installed)",
    )
    args = parser.parse_args(argv)
    seeds = list(SEEDS[: args.seeds or (1 if args.quick else 3)])
    budgets = [] if args.quick else [1, 2, 4, 8]
    backends = args.backend or ["tensorflow"] + (
        [] if args.quick or not importlib.util.find_spec("jax") else ["jax"]
    )
    reference_epochs = 1 if args.quick else REFERENCE["epochs"]
    full = {"QUICK": True, "EPOCHS": 1} if args.quick else {"QUICK": False, "EPOCHS": 25}
    plan = [("reference", reference_epochs), ("quick" if args.quick else "notebook", full["EPOCHS"])] * len(
        seeds
    )
    # A smoke run's notebook runs are quick mode on TensorFlow already: the TensorFlow row reuses them.
    reused = ["tensorflow"] if args.quick and "tensorflow" in backends else []
    plan += [("notebook", b) for b in budgets] + [
        ("quick", 1 if args.quick else 3) for b in backends if b not in reused
    ]
    progress = Progress(plan)
    data = load_data()
    if args.quick:  # a smoke run trains the reference on quick mode's 18,000 images, not all 60,000
        data = (data[0][:18_000], data[1][:18_000], *data[2:])
    # The kernels' environment: the notebook's defaults unless a parameter says otherwise.
    env = {
        "MNIST_OUTPUT_ROOT": str(OUTPUT_ROOT),
        "KERAS_BACKEND": "tensorflow",
        "MNIST_QUICK": "0",
        "MNIST_EPOCHS": None,
        # All the training images, as the notebook's defaults say; a smoke run takes what its caller set.
        "MNIST_TRAIN_SAMPLES": os.environ.get("MNIST_TRAIN_SAMPLES") if args.quick else None,
    }
    print(
        f"benchmark: {len(plan)} runs, seeds {seeds}; about {progress.left()} in all at first guess",
        flush=True,
    )

    # 1. Seeds, alternating the recipes.
    reference_seeds, notebook_seeds, reference_models, metrics = [], [], {}, {}
    for seed in seeds:
        progress.next_run(f"keras.io reference, seed {seed}")
        reference_models[seed], row = train_reference(seed, reference_epochs, data, progress)
        reference_seeds.append(row)
        progress.next_run(f"notebook, seed {seed}")
        default = seed == 42 and not args.quick  # the learner's run, untouched: nothing injected
        parameters = {} if default else dict(full, SEED=seed)
        metrics = run_notebook(f"notebook_seed{seed}", parameters, env, progress)
        keys = ("test_accuracy", "train_seconds", "val_accuracy")
        notebook_seeds.append({"seed": seed, **{key: metrics[key] for key in keys}})
        if default:
            clean_copy(RUNS / "notebook_seed42.ipynb", OUTPUTS / "mnist_cnn.ipynb")

    # 2. The notebook's recipe at shorter budgets.
    curve = {
        "reference": [point for row in reference_seeds for point in row.pop("curve")],
        "notebook": [dict(s, epochs=full["EPOCHS"], kind="full") for s in notebook_seeds],
    }
    for epochs in budgets:
        progress.next_run(f"notebook, {epochs} epoch{'s' * (epochs > 1)}, seed 42")
        budget = run_notebook(
            f"notebook_{epochs}epochs", {"QUICK": False, "EPOCHS": epochs, "SEED": 42}, env, progress
        )
        point = {"seed": 42, "epochs": epochs, "kind": "budget"}
        curve["notebook"].append(
            dict(point, test_accuracy=budget["test_accuracy"], train_seconds=budget["train_seconds"])
        )

    reference = recipe_row(
        "keras.io reference", reference_models[seeds[0]].count_params(), reference_epochs, reference_seeds
    )
    notebook = recipe_row("notebook", metrics["params"], full["EPOCHS"], notebook_seeds)
    reference["recipe"] = dict(REFERENCE, epochs=reference_epochs, dropout=0.5, train_images=len(data[0]))
    reached, how = time_to_accuracy(curve["notebook"], reference["test_accuracy"])
    ratio = None if reached is None else reached / reference["train_seconds_median"]

    # 3. Inference, alternating the two seed-42 models.
    notebook_model = keras.models.load_model(RUNS / f"notebook_seed{seeds[0]}.keras", compile=False)
    inference = time_inference(
        {"reference": reference_models[seeds[0]], "notebook": notebook_model}, data[2], 2 if args.quick else 5
    )
    reference |= inference["reference"]
    notebook |= inference["notebook"]

    # 4. Backends, quick mode.
    rows = {}
    for backend in backends:
        if backend in reused:
            rows[backend] = backend_row(metrics)
            continue
        progress.next_run(f"notebook, quick mode, {backend}")
        quick = run_notebook(
            f"quick_{backend}",
            {"QUICK": True, "EPOCHS": 1 if args.quick else 3, "SEED": 42},
            dict(env, KERAS_BACKEND=backend),
            progress,
        )
        rows[backend] = backend_row(quick)

    result = {
        "quick": args.quick,
        "device": metrics["device"],
        "versions": metrics["versions"],
        "seeds": seeds,
        "reference": reference,
        "notebook": notebook,
        "train_time_ratio": notebook["train_seconds_median"] / reference["train_seconds_median"],
        "accuracy_difference": notebook["test_accuracy"] - reference["test_accuracy"],
        "curve": curve,
        "time_to_reference_seconds": reached,
        "time_to_reference": how,
        "time_to_reference_ratio": ratio,
        "inference_repeats": 2 if args.quick else 5,
        "backends": rows,
    }
    report(result)
    OUTPUTS.mkdir(parents=True, exist_ok=True)
    (OUTPUTS / "benchmark.json").write_text(json.dumps(result, indent=2))
    plot_curve(curve, reference["test_accuracy"], reached, OUTPUTS / "benchmark.png")
    print(f"wrote outputs/benchmark.json and outputs/benchmark.png ({progress.elapsed()} in all)")


def report(r: dict) -> None:
    """The table and the figures derived from it."""
    print(f"\n{r['device']}; " + ", ".join(f"{k} {v}" for k, v in r["versions"].items()))
    header = f"{'recipe':<20} {'params':>8} {'epochs':>6} {'seeds':>5} {'train s':>8} {'test accuracy':>30}"
    print(header + f" {'images/s':>9} {'ms/image':>9}")
    print("-" * (len(header) + 20))
    for row in (r["reference"], r["notebook"]):
        accuracy = (
            f"{row['test_accuracy']:.2%} [{row['test_accuracy_min']:.2%}, {row['test_accuracy_max']:.2%}]"
        )
        print(
            f"{row['model']:<20} {row['params']:>8,} {row['epochs']:>6} {len(row['seeds']):>5} "
            f"{row['train_seconds_median']:>8.1f} {accuracy:>30} {row['images_per_second']:>9,.0f} "
            f"{row['latency_ms']:>9.2f}"
        )
    print(
        "(train s: median over seeds; test accuracy: mean [min, max]; images/s and ms/image: medians over "
        f"{r['inference_repeats']} alternating repeats)"
    )
    for row in (r["reference"], r["notebook"]):
        seeds = ", ".join(
            f"{s['seed']}: {s['test_accuracy']:.2%} in {s['train_seconds']:.0f} s" for s in row["seeds"]
        )
        print(f"  {row['model']} per seed: {seeds}")
        low, high = row["images_per_second_range"]
        print(f"  {row['model']} inference: {low:,.0f} to {high:,.0f} images/s over the repeats")
    print(f"training time, notebook / reference (medians): {r['train_time_ratio']:.2f}x")
    print(f"test accuracy, notebook - reference (means): {100 * r['accuracy_difference']:+.2f} points")
    target = r["reference"]["test_accuracy"]
    if r["time_to_reference_seconds"] is None:
        print(f"time to the reference's mean accuracy ({target:.2%}): not reached")
    else:
        print(
            f"time to the reference's mean accuracy ({target:.2%}): {r['time_to_reference']} "
            f"{r['time_to_reference_seconds']:.0f} s of training, {r['time_to_reference_ratio']:.2f}x the "
            f"reference's {r['reference']['train_seconds_median']:.0f} s"
        )
    budgets = sorted((p for p in r["curve"]["notebook"] if p["kind"] == "budget"), key=lambda p: p["epochs"])
    if budgets:
        print(
            "notebook's recipe by budget: "
            + ", ".join(
                f"{p['epochs']} ep {p['test_accuracy']:.2%} in {p['train_seconds']:.0f} s" for p in budgets
            )
        )
    base = r["backends"].get("tensorflow", {}).get("seconds_per_step")
    for name, row in r["backends"].items():
        relative = (
            f" ({row['seconds_per_step'] / base:.2f}x tensorflow)" if base and name != "tensorflow" else ""
        )
        print(
            f"backend {name}: {1000 * row['seconds_per_step']:.0f} ms/step{relative}, first epoch "
            f"{row['first_epoch_seconds']:.0f} s, test accuracy {row['test_accuracy']:.2%} (quick mode, "
            f"{row['epochs']} epochs on {row['train_samples']:,} images)"
        )


if __name__ == "__main__":
    main()
