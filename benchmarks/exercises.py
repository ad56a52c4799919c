"""What the notebook's exercises give, measured: each change in quick mode, over several seeds.

    python benchmarks/exercises.py               # seeds 42 43 44, quick mode (3 epochs, 18,000 images)
    python benchmarks/exercises.py --seeds 42 43 # fewer seeds
    python benchmarks/exercises.py --smoke       # the exercises alone, 1 epoch on 512 images: do they run?

Section 15 of the notebook asks the learner to change one thing, run the notebook in quick mode and compare.
This script makes the same changes to the notebook's own cells (run by tag, as the tests do), trains in quick
mode and prints the figures that the answers quote, as ranges over the seeds; it also undoes the recipe's
other ingredients one at a time, for the notebook's table of what each is worth. Everything is scored on the
6,000 validation images: the test set is never touched. It writes ``outputs/exercises.json``.
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
from notebook_helpers import Edit, run_tagged_cells  # noqa: E402

CONV1 = "layers.Conv2D(32, kernel_size=5, use_bias=False)"
BATCH_NORM = "            layers.BatchNormalization(momentum=0.9),\n"
# The changes that the exercises ask for: (tag of the notebook's cell, text in it, what replaces it).
EXERCISES: dict[str, list[Edit]] = {
    "no label smoothing": [("schedule", "LABEL_SMOOTHING = 0.1", "LABEL_SMOOTHING = 0.0")],
    "first filters 3×3": [("model", CONV1, CONV1.replace("kernel_size=5", "kernel_size=3"))],
    "no augmentation": [("augmentation", "        .map(augment)\n", "")],
    "no batch normalisation": [("model", BATCH_NORM, ""), ("model", "use_bias=False", "use_bias=True")],
}
# The recipe's other ingredients, each undone on its own, for the notebook's table.
INGREDIENTS: dict[str, list[Edit]] = {
    "biases in every layer": [("model", "use_bias=False", "use_bias=True")],
    "batch-norm momentum 0.99 (Keras's default)": [("model", "momentum=0.9)", "momentum=0.99)")],
    "no dropout": [("model", "            layers.Dropout(0.4),\n", "")],
    "constant learning rate 0.001 (Adam's default)": [
        ("train", "keras.optimizers.Adam(learning_rate)", "keras.optimizers.Adam(1e-3)")
    ],
}
VARIANTS = {"the recipe": [], **EXERCISES, **INGREDIENTS}
INVERTED = "model.evaluate(1 - x_val, y_val, verbose=0)"  # the last exercise: dark ink on light paper
RUN_TAGS = ("preprocess", "model", "augmentation", "schedule", "sanity-check", "train")


def setup(epochs: int, train_samples: int) -> dict:
    """The notebook's setup and data cells, once, with the knobs set as papermill would set them."""
    namespace = run_tagged_cells("parameters")
    namespace.update(QUICK=True, EPOCHS=epochs, TRAIN_SAMPLES=train_samples)
    return run_tagged_cells("setup", "imports", "load-data", "load-call", namespace=namespace)


def run(base: dict, variant: str, seed: int) -> dict:
    """The notebook's cells from preprocessing to training, with the variant's changes made."""
    namespace = dict(base, SEED=seed)
    start = time.perf_counter()
    run_tagged_cells(*RUN_TAGS, namespace=namespace, edits=VARIANTS[variant])
    seconds = time.perf_counter() - start
    model, history, keras = namespace["model"], namespace["history"].history, namespace["keras"]
    batch = namespace["BATCH_SIZE"]
    untrained_loss = float(namespace["loss"](namespace["y_train"][:batch], namespace["probabilities"]))
    row = {
        "variant": variant,
        "seed": seed,
        "val_accuracy": float(history["val_accuracy"][-1]),
        "val_loss": float(history["val_loss"][-1]),
        "train_accuracy": float(history["accuracy"][-1]),
        "train_loss": float(history["loss"][-1]),
        "untrained_loss": untrained_loss,
        "validation_samples": len(namespace["x_val"]),
        "params": model.count_params(),
        "output_shapes": [list(layer.output.shape[1:]) for layer in model.layers],
        "seconds": seconds,
    }
    if variant == "the recipe":  # the inverted-digits exercise: dark ink on light, fed to this model
        row["inverted_val_accuracy"] = float(eval(INVERTED, namespace)[1])
    keras.backend.clear_session()
    return row


def summarise(runs: list[dict], key: str) -> dict[str, dict]:
    """Mean, min and max of ``key`` over the seeds, per variant."""
    result = {}
    for variant in VARIANTS:
        values = [r[key] for r in runs if r["variant"] == variant and key in r]
        if values:
            result[variant] = {"mean": statistics.mean(values), "min": min(values), "max": max(values)}
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument(
        "--smoke", action="store_true", help="the exercises alone, one seed, 1 epoch, 512 images"
    )
    args = parser.parse_args(argv)
    seeds, epochs, samples = ([args.seeds[0]], 1, 512) if args.smoke else (args.seeds, 3, 18_000)
    variants = ["the recipe", *EXERCISES] if args.smoke else list(VARIANTS)
    base = setup(epochs, samples)
    runs, total, started = [], len(seeds) * len(variants), time.perf_counter()
    for seed in seeds:  # interleaved, so that a busy spell of the machine hits every variant
        for variant in variants:
            done = len(runs)
            left = (time.perf_counter() - started) / max(done, 1) * (total - done) / 60
            print(f"[{done + 1}/{total}, {left:.0f} min left] {variant}, seed {seed}", flush=True)
            runs.append(run(base, variant, seed))
    result = {
        "mode": {
            "epochs": epochs,
            "train_samples": samples,
            "validation_samples": runs[0]["validation_samples"],
        },
        "seeds": seeds,
        "changes": {name: [list(edit) for edit in edits] for name, edits in VARIANTS.items()},
        "runs": runs,
        "val_accuracy": summarise(runs, "val_accuracy"),
        "train_accuracy": summarise(runs, "train_accuracy"),
        "train_loss": summarise(runs, "train_loss"),
        "untrained_loss": summarise(runs, "untrained_loss"),
        "inverted_val_accuracy": summarise(runs, "inverted_val_accuracy"),
    }
    report(result)
    out = Path(os.environ.get("MNIST_OUTPUT_ROOT", ROOT)) / "outputs" / "exercises.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"wrote {out}")
    return result


def report(result: dict) -> None:
    mode, variants = result["mode"], list(result["val_accuracy"])
    print(
        f"\nquick mode: {mode['epochs']} epochs on {mode['train_samples']:,} images, seeds {result['seeds']}"
    )
    print(f"{'variant':<46} {'validation accuracy: mean [min, max]':>38} {'training loss':>22} {'params':>9}")
    for variant in variants:
        accuracy, loss = result["val_accuracy"][variant], result["train_loss"][variant]
        params = next(r["params"] for r in result["runs"] if r["variant"] == variant)
        print(
            f"{variant:<46} {accuracy['mean']:>19.2%} [{accuracy['min']:.2%}, {accuracy['max']:.2%}]"
            f" {loss['min']:>12.3f} to {loss['max']:.3f} {params:>9,}"
        )
    for variant in ("the recipe", "no label smoothing"):
        loss = result["untrained_loss"][variant]
        print(f"untrained loss, {variant}: {loss['min']:.3f} to {loss['max']:.3f}")
    inverted = result["inverted_val_accuracy"]["the recipe"]
    print(
        f"the recipe's models on inverted validation digits: {inverted['min']:.2%} to {inverted['max']:.2%}"
    )
    shapes = next(r["output_shapes"] for r in result["runs"] if r["variant"] == "first filters 3×3")
    print(f"output shapes with 3×3 first filters: {shapes}")


if __name__ == "__main__":
    main()
