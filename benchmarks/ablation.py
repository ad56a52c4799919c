"""Which training tricks earn their place? Validation accuracy over seeds, with and without each.

    python benchmarks/ablation.py                        # seeds 42 43 44, 25 epochs: half an hour on 2 cores
    python benchmarks/ablation.py --seeds 42 --epochs 1  # a smoke run

It trains the notebook's own recipe (its cells, run by tag: the data, the model, the tf.data augmentation,
the learning-rate schedule) once per seed and label-smoothing setting, and reports validation accuracy on
the 6,000 held-out training images. The test set is never touched: this is how the recipe is chosen.

Weight averaging (Adam's ``use_ema``) needs no run of its own: the average never feeds back into training,
so every run keeps it alongside the weights, and scores both: the raw weights after the last epoch, then
the averaged ones, which Keras swaps in when training ends. Each pair comes from the same trajectory, so
their difference is the average's effect alone. Writes ``outputs/ablation.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from notebook_helpers import BEFORE_TRAINING_TAGS, run_tagged_cells  # noqa: E402


def recipe(seed: int, epochs: int) -> dict:
    """The notebook's cells up to training, with SEED and EPOCHS set after its parameters cell (as papermill
    does), so that every function they define sees them."""
    namespace = run_tagged_cells("parameters")
    namespace.update(SEED=seed, EPOCHS=epochs, QUICK=False)
    return run_tagged_cells(*BEFORE_TRAINING_TAGS, "schedule", namespace=namespace)


def train(seed: int, epochs: int, label_smoothing: float) -> dict:
    """One run of the notebook's recipe; validation accuracy with the raw and with the averaged weights."""
    namespace = recipe(seed, epochs)
    keras = namespace["keras"]
    keras.utils.set_random_seed(seed)  # as the notebook's training cell does, in the same order
    model = namespace["build_model"]()
    model.compile(
        optimizer=keras.optimizers.Adam(namespace["learning_rate"], use_ema=True, ema_momentum=0.999),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )
    x_train, y_train, x_val, y_val = (namespace[k] for k in ("x_train", "y_train", "x_val", "y_val"))
    start = time.perf_counter()
    history = model.fit(
        namespace["train_dataset"](x_train, y_train),
        epochs=epochs,
        validation_data=(x_val, y_val),
        shuffle=False,
        verbose=2,
    )
    seconds = time.perf_counter() - start
    _, averaged = model.evaluate(x_val, y_val, verbose=0)  # Keras has swapped the average in
    return {
        "seed": seed,
        "label_smoothing": label_smoothing,
        "epochs": epochs,
        "val_accuracy": float(history.history["val_accuracy"][-1]),
        "val_accuracy_averaged_weights": float(averaged),
        "train_seconds": seconds,
    }


def summary(values: list[float]) -> str:
    return f"mean {statistics.mean(values):.2%}, min {min(values):.2%}, max {max(values):.2%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--label-smoothing", type=float, nargs="+", default=[0.1, 0.0])
    args = parser.parse_args()

    runs = []
    total = len(args.seeds) * len(args.label_smoothing)
    started = time.perf_counter()
    for seed in args.seeds:  # interleaved, so that a busy spell of the machine hits every variant
        for smoothing in args.label_smoothing:
            done = len(runs)
            per_run = (time.perf_counter() - started) / max(done, 1)
            left = f", about {per_run * (total - done) / 60:.0f} min left" if done else ""
            print(f"[run {done + 1}/{total}{left}] seed {seed}, label smoothing {smoothing}", flush=True)
            runs.append(train(seed, args.epochs, smoothing))
            print(json.dumps(runs[-1]), flush=True)

    print(f"\nvalidation accuracy on the held-out training images, {args.epochs} epochs:")
    result = {"epochs": args.epochs, "seeds": args.seeds, "runs": runs, "variants": {}}
    for smoothing in args.label_smoothing:
        mine = [r for r in runs if r["label_smoothing"] == smoothing]
        raw = [r["val_accuracy"] for r in mine]
        averaged = [r["val_accuracy_averaged_weights"] for r in mine]
        gain = [a - r for a, r in zip(averaged, raw)]
        print(f"  label smoothing {smoothing}: {summary(raw)}")
        print(f"    + weight averaging: {summary(averaged)}; paired difference {statistics.mean(gain):+.3%}")
        result["variants"][str(smoothing)] = {
            "val_accuracy_mean": statistics.mean(raw),
            "val_accuracy_min": min(raw),
            "val_accuracy_max": max(raw),
            "averaged_weights_val_accuracy_mean": statistics.mean(averaged),
            "averaged_weights_gain_mean": statistics.mean(gain),
        }
    out = Path(os.environ.get("MNIST_OUTPUT_ROOT", ROOT)) / "outputs" / "ablation.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
