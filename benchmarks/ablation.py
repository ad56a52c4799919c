"""What each choice of the recipe buys, and what the notebook's exercises give: validation accuracy
over seeds, with one change at a time made to the notebook's own cells.

    python -m benchmarks.ablation                # the exercises' setting: all of them
    python -m benchmarks.ablation --full         # full mode (the notebook's): the recipe, and
                                                 # without augmentation, with dropout
    python -m benchmarks.ablation --seeds 42 43  # fewer seeds (default 42, 43, 44)
    python -m benchmarks.ablation --smoke        # the exercises alone, 1 epoch on 512 images

Section 26 of the notebook asks the learner to change one thing and compare; section 25's table
gives what each ingredient of the recipe is worth, undone on its own. This script makes the same
changes to the notebook's own cells (run by tag, with the edits the exercises quote), trains, and
scores on the 6,000 validation images: the test set is never touched, since this is how the recipe
is chosen. The runs are interleaved (seed after seed, every variant for each seed), so that a busy
spell of the machine hits every variant. Each run keeps its result in ``outputs/ablation/<mode>/``:
stopped and started again, the script reads back the runs done and goes on. It prints ranges over
the seeds and writes ``outputs/ablation_<mode>.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time

import numpy as np

from benchmarks.runs import cached, refuse_overrides
from notebooks.notebook_tools import (
    TRAINING_TAGS,
    Edit,
    notebook_settings,
    output_root,
    run_tagged_cells,
)

CONV1 = "layers.Conv2D(32, kernel_size=5, use_bias=False)"
# Whole lines (their newline included): found whatever their indentation (notebook_tools.Edit).
BATCH_NORM = "layers.BatchNormalization(momentum=0.9),\n"
OUTPUT = 'layers.Dense(10, activation="softmax"),\n'
# The changes that the exercises ask for: (tag of the notebook's cell, text in it, what replaces
# it).
EXERCISES: dict[str, list[Edit]] = {
    "no label smoothing": [("parameters", "LABEL_SMOOTHING = 0.1", "LABEL_SMOOTHING = 0")],
    "first filters 3×3": [("model", CONV1, CONV1.replace("kernel_size=5", "kernel_size=3"))],
    "no augmentation": [("model", "*augmentation_layers(),\n", "")],
    "no batch normalisation": [
        ("model", BATCH_NORM, ""),
        ("model", "use_bias=False", "use_bias=True"),
    ],
}
# The recipe's other ingredients, each undone on its own, for the notebook's table.
INGREDIENTS: dict[str, list[Edit]] = {
    "biases in every layer": [("model", "use_bias=False", "use_bias=True")],
    "batch-norm momentum 0.99 (Keras's default)": [("model", "momentum=0.9)", "momentum=0.99)")],
    "dropout 0.4 before the output layer": [("model", OUTPUT, "layers.Dropout(0.4),\n" + OUTPUT)],
    "constant learning rate 0.001 (Adam's default)": [
        ("train", "keras.optimizers.Adam(learning_rate)", "keras.optimizers.Adam(1e-3)")
    ],
}
# Candidates for the recipe, not in the notebook (run with --full --variants): the three random
# layers' shift, turn and zoom done in one bilinear resampling per image, so the training digits
# are blurred once rather than three times.
ONE_RESAMPLING = '''
class OneResampling(layers.Layer):
    """Random shift, turn and zoom of each image in one bilinear resampling, in training only."""

    def __init__(self, shift=0.1, turn=0.03, zoom=0.1, **kwargs):
        super().__init__(**kwargs)
        self.shift, self.turn, self.zoom = shift, turn, zoom
        self.seed_generator = keras.random.SeedGenerator()

    def call(self, images, training=None):
        if not training:
            return images
        ops, n = keras.ops, keras.ops.shape(images)[0]
        height, width = images.shape[1], images.shape[2]
        uniform = lambda limit: keras.random.uniform(  # noqa: E731
            (n,), -limit, limit, seed=self.seed_generator
        )
        angle, scale = uniform(self.turn) * 2 * np.pi, 1 + uniform(self.zoom)
        tx, ty = uniform(self.shift) * width, uniform(self.shift) * height
        cx, cy = (width - 1) / 2, (height - 1) / 2
        cos, sin = ops.cos(angle) / scale, ops.sin(angle) / scale
        transform = ops.stack(
            [cos, sin, cx - cos * (cx + tx) - sin * (cy + ty),
             -sin, cos, cy + sin * (cx + tx) - cos * (cy + ty),
             ops.zeros_like(cos), ops.zeros_like(cos)], axis=1)
        return ops.image.affine_transform(images, transform, fill_mode="constant")

    def compute_output_shape(self, input_shape):
        return input_shape

'''
RANDOM_LAYERS = (  # whole lines of the augmentation cell (found whatever their indentation)
    'layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),  # up to 10% of 28 px: ±2.8\n',
    'layers.RandomRotation(0.03, fill_mode="constant"),  # ±0.03 of a full turn: about ±11°\n',
    'layers.RandomZoom(0.1, fill_mode="constant"),  # ±10%\n',
)
DEFINITION = "def augmentation_layers() -> list[layers.Layer]:\n"
EXPERIMENTS: dict[str, list[Edit]] = {
    "augmentation in one resampling": [
        ("augmentation", DEFINITION, ONE_RESAMPLING + DEFINITION),
        ("augmentation", RANDOM_LAYERS[0], "OneResampling(),\n"),
        ("augmentation", RANDOM_LAYERS[1], ""),
        ("augmentation", RANDOM_LAYERS[2], ""),
    ],
}
VARIANTS = {"the recipe": [], **EXERCISES, **INGREDIENTS, **EXPERIMENTS}
FULL_MODE = ("the recipe", "no augmentation", "dropout 0.4 before the output layer")
# The last exercise: the validation digits as dark ink on light paper.
INVERTED = "model.evaluate(1 - x_val, y_val, verbose=0)"
# Exercise 3's measure, as the exercise quotes it: the validation digits moved 3 pixels to the
# right, black coming in at the left.
MOVED = (
    "moved = np.zeros_like(x_val)",
    "moved[:, :, 3:] = x_val[:, :, :-3]",
    "model.evaluate(moved, y_val, verbose=0)",
)
# The exercises' own setting, which section 26 asks the learner to set in the first cell (shorter
# than quick mode), and in which its table's first column and the answers were measured.
EXERCISE_SETTINGS = {"EPOCHS": 3, "TRAIN_SAMPLES": 18_000}


def setup(epochs: int, train_samples: int | None) -> dict:
    """The notebook's setup and data cells, once, with the settings as papermill would set them."""
    namespace = run_tagged_cells("parameters")
    namespace.update(QUICK=train_samples is not None, EPOCHS=epochs, TRAIN_SAMPLES=train_samples)
    return run_tagged_cells("preprocess", namespace=namespace)  # and the cells it needs


def run(base: dict, variant: str, seed: int) -> dict:
    """The notebook's cells from the network to training, with the variant's changes made."""
    edits = VARIANTS[variant]
    settings = {key: base[key] for key in ("QUICK", "EPOCHS", "TRAIN_SAMPLES")}
    namespace = run_tagged_cells(
        "parameters", namespace=dict(base), edits=[e for e in edits if e[0] == "parameters"]
    )
    namespace.update(settings, SEED=seed)
    start = time.perf_counter()
    run_tagged_cells(
        *TRAINING_TAGS, namespace=namespace, edits=[e for e in edits if e[0] != "parameters"]
    )
    seconds = time.perf_counter() - start
    model, history, keras = namespace["model"], namespace["history"].history, namespace["keras"]
    batch = namespace["BATCH_SIZE"]
    row = {
        "variant": variant,
        "seed": seed,
        "val_accuracy": float(history["val_accuracy"][-1]),
        "val_loss": float(history["val_loss"][-1]),
        "train_accuracy": float(history["accuracy"][-1]),
        "train_loss": float(history["loss"][-1]),
        "untrained_loss": float(
            namespace["loss"](namespace["y_train"][:batch], namespace["probabilities"])
        ),
        "label_smoothing": namespace["LABEL_SMOOTHING"],
        "train_samples": len(namespace["x_train"]),
        "validation_samples": len(namespace["x_val"]),
        "epochs": namespace["EPOCHS"],
        "params": model.count_params(),
        "output_shapes": [list(layer.output.shape[1:]) for layer in model.layers],
        "seconds": seconds,
        "shifted_val_accuracy": shifted_accuracy(model, namespace["x_val"], namespace["y_val"]),
        "moved_val_accuracy": moved_accuracy(namespace),
    }
    if variant == "the recipe":  # the inverted-digits exercise: dark ink on light paper
        row["inverted_val_accuracy"] = float(eval(INVERTED, namespace)[1])
    keras.backend.clear_session()
    return row


def moved_accuracy(namespace: dict) -> float:
    """Exercise 3's accuracy on the moved validation digits, computed by the lines it quotes."""
    *statements, score = MOVED
    exec("\n".join(statements), namespace)
    return float(eval(score, namespace)[1])


def shifted_accuracy(model, images: np.ndarray, labels: np.ndarray, pixels: int = 3) -> float:
    """The accuracy on the validation digits moved by ``pixels`` up, down, left and right (black
    fills in): how well a model copes with off-centre digits, as augmentation trains it to."""
    scores = []
    for axis, step in ((1, pixels), (1, -pixels), (2, pixels), (2, -pixels)):
        moved = np.roll(images, step, axis=axis)
        edge = [slice(None)] * 4
        edge[axis] = slice(0, step) if step > 0 else slice(step, None)
        moved[tuple(edge)] = 0.0
        scores.append(model.evaluate(moved, labels, verbose=0)[1])
    return float(np.mean(scores))


def summarise(runs: list[dict], key: str) -> dict[str, dict]:
    """Mean, min and max of ``key`` over the seeds, per variant."""
    result = {}
    for variant in VARIANTS:
        values = [r[key] for r in runs if r["variant"] == variant and key in r]
        if values:
            result[variant] = {
                "mean": statistics.mean(values),
                "min": min(values),
                "max": max(values),
            }
    return result


def slug(variant: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", variant.lower().replace("×", "x")).strip("-")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--full", action="store_true", help="full mode, the variants of FULL_MODE")
    modes.add_argument(
        "--smoke", action="store_true", help="the exercises alone, one seed, 1 epoch, 512 images"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        nargs="+",
        help="with --full: budgets to measure, each with its own schedule (for the knee of the "
        "validation curve); default: the notebook's own epochs",
    )
    parser.add_argument(
        "--variants", nargs="+", choices=list(VARIANTS), help="the variants to run (with --full)"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        return measure("smoke", args.seeds[:1], 1, 512, ["the recipe", *EXERCISES])
    if not args.full:
        epochs, samples = EXERCISE_SETTINGS["EPOCHS"], EXERCISE_SETTINGS["TRAIN_SAMPLES"]
        default = [v for v in VARIANTS if v not in EXPERIMENTS]
        return measure("exercises", args.seeds, epochs, samples, args.variants or default)
    refuse_overrides()
    default = notebook_settings(quick=False)["EPOCHS"]
    variants = args.variants or list(FULL_MODE)
    results = [
        measure(
            "full" if epochs == default else f"full-{epochs}epochs",
            args.seeds,
            epochs,
            None,
            variants,
        )
        for epochs in args.epochs or [default]
    ]
    return results[0] if len(results) == 1 else {"budgets": results}


def measure(
    mode: str, seeds: list[int], epochs: int, samples: int | None, variants: list[str]
) -> dict:
    """Every variant for every seed, interleaved; the summary, printed and written to
    ``outputs/ablation_<mode>.json``."""
    out = output_root() / "outputs"
    base, runs, total, started = None, [], len(seeds) * len(variants), time.perf_counter()
    for seed in seeds:  # interleaved, so that a busy spell of the machine hits every variant
        for variant in variants:
            path = out / "ablation" / mode / f"{slug(variant)}_seed{seed}.json"
            done, fresh = len(runs), sum(not r.get("_read_back") for r in runs)
            left = (time.perf_counter() - started) / max(fresh, 1) * (total - done) / 60
            note = " (done earlier: read back)" if path.exists() else ""
            print(
                f"[{done + 1}/{total}, {left:.0f} min left] {mode}: {variant}, seed {seed}{note}",
                flush=True,
            )
            if base is None and not path.exists():
                base = setup(epochs, samples)
            row = cached(
                path, lambda base=base, variant=variant, seed=seed: run(base, variant, seed)
            )
            runs.append(row | {"_read_back": bool(note)})
    runs = [{k: v for k, v in r.items() if k != "_read_back"} for r in runs]
    result = {
        "mode": {"name": mode, "epochs": epochs, "train_samples": runs[0]["train_samples"]}
        | {"validation_samples": runs[0]["validation_samples"]},
        "seeds": seeds,
        "changes": {name: [list(edit) for edit in VARIANTS[name]] for name in variants},
        "runs": runs,
        **{key: summarise(runs, key) for key in ("val_accuracy", "train_accuracy", "train_loss")},
        **{key: summarise(runs, key) for key in ("untrained_loss", "inverted_val_accuracy")},
        "shifted_val_accuracy": summarise(runs, "shifted_val_accuracy"),
        "moved_val_accuracy": summarise(runs, "moved_val_accuracy"),
        "seconds": summarise(runs, "seconds"),
    }
    report(result)
    (out / f"ablation_{mode}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"wrote {out / f'ablation_{mode}.json'}")
    return result


def report(result: dict) -> None:
    mode = result["mode"]
    print(
        f"\n{mode['name']} mode: {mode['epochs']} epochs on {mode['train_samples']:,} images, "
        f"seeds {result['seeds']}"
    )
    print(
        f"{'variant':<46} {'validation accuracy: mean [min, max]':>38} "
        f"{'training loss':>22} {'params':>9}"
    )
    for variant, accuracy in result["val_accuracy"].items():
        loss = result["train_loss"][variant]
        params = next(r["params"] for r in result["runs"] if r["variant"] == variant)
        print(
            f"{variant:<46} {accuracy['mean']:>19.2%} "
            f"[{accuracy['min']:.2%}, {accuracy['max']:.2%}]"
            f" {loss['min']:>12.3f} to {loss['max']:.3f} {params:>9,}"
        )
    for variant in ("the recipe", "no label smoothing"):
        if variant in result["untrained_loss"]:
            loss = result["untrained_loss"][variant]
            print(f"untrained loss, {variant}: {loss['min']:.3f} to {loss['max']:.3f}")
    for variant, accuracy in result["train_accuracy"].items():
        print(f"training accuracy, {variant}: {accuracy['min']:.2%} to {accuracy['max']:.2%}")
    for variant, accuracy in result["shifted_val_accuracy"].items():
        low, high = accuracy["min"], accuracy["max"]
        print(f"digits moved 3 pixels, {variant}: {accuracy['mean']:.2%} [{low:.2%}, {high:.2%}]")
    for variant, accuracy in result["moved_val_accuracy"].items():
        low, high = accuracy["min"], accuracy["max"]
        print(f"digits moved 3 pixels right, {variant}: {low:.2%} to {high:.2%}")
    if "the recipe" in result["inverted_val_accuracy"]:
        inverted = result["inverted_val_accuracy"]["the recipe"]
        print(
            "the recipe's models on inverted validation digits: "
            f"{inverted['min']:.2%} to {inverted['max']:.2%}"
        )
    shapes = [r["output_shapes"] for r in result["runs"] if r["variant"] == "first filters 3×3"]
    if shapes:
        print(f"output shapes with 3×3 first filters: {shapes[0]}")


if __name__ == "__main__":
    main()
