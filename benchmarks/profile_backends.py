"""Seconds per training step: augmentation in the model (the notebook now) against augmentation in a
tf.data pipeline (the notebook before), and the network alone, on each Keras backend.

    python -m benchmarks.profile_backends                  # tensorflow, and jax when installed
    python -m benchmarks.profile_backends --backend torch  # any of tensorflow, jax, torch

For each backend (a fresh process each, since Keras picks its backend at import) it builds the
notebook's own network and augmentation layers (its cells, run by tag) and trains them in batches of
128, as the notebook does, in three set-ups:

* ``in the model``: ``build_model()`` as the notebook defines it, the random layers first, ``fit``
  on the NumPy arrays;
* ``in tf.data``: the same network without its random layers, fed by a tf.data pipeline that applies
  the same layers (shuffle, batch, augment, prefetch two batches, autotuning off: the notebook's
  earlier pipeline, which needs TensorFlow whatever the backend);
* ``none``: the network alone, no augmentation, ``fit`` on the arrays.

Each set-up first trains one batch (tracing and compiling), then the set-ups take turns, pass after
pass (interleaved, so that a busy spell of the machine hits all of them), each pass ``--steps``
steps. It prints the median milliseconds per step over the passes, their range, and the ratios, and
writes ``outputs/profile_backends.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

from benchmarks.runs import write_results
from notebooks.notebook_tools import ROOT, run_tagged_cells

SETUPS = ("in the model", "in tf.data", "none")


def tf_data_pipeline(tf, images, labels, augmentation: list, batch_size: int, seed: int):
    """The notebook's earlier input pipeline: shuffled batches, augmented on the CPU while the model
    trains on the previous ones."""

    def augment(batch, batch_labels):
        for layer in augmentation:
            batch = layer(batch, training=True)
        return batch, batch_labels

    options = tf.data.Options()
    options.autotune.enabled = False
    return (
        tf.data.Dataset.from_tensor_slices((images, labels))
        .shuffle(len(images), seed=seed)
        .batch(batch_size)
        .map(augment)
        .prefetch(2)
        .with_options(options)
        .repeat()
    )


def profile(steps: int, passes: int) -> dict:
    """Runs in a child process whose KERAS_BACKEND is set."""
    import tensorflow as tf

    cells = run_tagged_cells("preprocess", "model")  # and the cells they need
    keras, batch = cells["keras"], cells["BATCH_SIZE"]
    x, y = cells["x_train"][: batch * steps], cells["y_train"][: batch * steps]

    def without_augmentation() -> object:
        layers = cells["build_model"]().layers
        network = [layer for layer in layers if not type(layer).__name__.startswith("Random")]
        return keras.Sequential([keras.Input(shape=(28, 28, 1)), *network])

    models = {"in the model": cells["build_model"](), "in tf.data": without_augmentation()}
    models["none"] = without_augmentation()
    pipeline = tf_data_pipeline(tf, x, y, cells["augmentation_layers"](), batch, cells["SEED"])
    feeds = {
        "in the model": lambda n: {"x": x[: batch * n], "y": y[: batch * n], "batch_size": batch},
        "in tf.data": lambda n: {"x": pipeline, "steps_per_epoch": n},
        "none": lambda n: {"x": x[: batch * n], "y": y[: batch * n], "batch_size": batch},
    }
    warm_up, times = {}, {name: [] for name in SETUPS}
    for name, model in models.items():
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        start = time.perf_counter()
        model.fit(**feeds[name](1), epochs=1, verbose=0)  # traces and compiles the step
        warm_up[name] = time.perf_counter() - start
    for _ in range(passes):
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(**feeds[name](steps), epochs=1, verbose=0)
            times[name].append(1000 * (time.perf_counter() - start) / steps)
    result = {
        name: {"ms_per_step": statistics.median(times[name]), "passes": times[name]}
        | {"warm_up_seconds": warm_up[name]}
        for name in SETUPS
    }
    return {"backend": keras.backend.backend(), "versions": cells["VERSIONS"], "steps": result}


def main(argv: list[str] | None = None) -> dict:
    title = __doc__.splitlines()[0]
    return command_line(argv, "benchmarks.profile_backends", title, profile, report, 100, 7)


def command_line(
    argv: list[str] | None, module: str, description: str, profile, report, steps: int, passes: int
) -> dict:
    """A profiling module's command: with --child, ``profile`` in this process (whose backend is
    set); without, that module once per backend in a child process, then ``report`` and the
    results written to ``outputs/<module's last name>.json``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--backend", action="append", choices=["tensorflow", "jax", "torch"])
    parser.add_argument("--steps", type=int, default=steps, help="training steps per pass")
    parser.add_argument("--passes", type=int, default=passes, help="passes of each version")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(profile(args.steps, args.passes)))
        return {}
    backends = args.backend or ["tensorflow"] + (["jax"] if importlib.util.find_spec("jax") else [])
    sizes = ["--steps", str(args.steps), "--passes", str(args.passes)]
    results = in_children(module, backends, sizes)
    report(results)
    write_results(results, module.rsplit(".", 1)[-1] + ".json")
    return results


def in_children(module: str, backends: list[str], arguments: list[str]) -> dict:
    """``python -m module --child *arguments`` once per backend, each in a fresh process (Keras
    picks its backend at import): the JSON each prints last, by backend."""
    results = {}
    for backend in backends:
        print(f"profiling {backend}: {' '.join(arguments)}", flush=True)
        child = subprocess.run(
            [sys.executable, "-m", module, "--child", *arguments],
            cwd=ROOT,
            env=dict(os.environ, KERAS_BACKEND=backend, MNIST_QUICK="1"),
            capture_output=True,
            text=True,
            check=True,
        )
        results[backend] = json.loads(child.stdout.strip().splitlines()[-1])
    return results


def report(results: dict) -> None:
    print(
        "\nms per training step (batches of 128): median over the passes [range]; warm-up seconds"
    )
    for backend, result in results.items():
        steps = result["steps"]
        print(f"{backend} ({', '.join(f'{k} {v}' for k, v in result['versions'].items())})")
        for name in SETUPS:
            row = steps[name]
            low, high = min(row["passes"]), max(row["passes"])
            print(
                f"  augmentation {name + ':':<15} {row['ms_per_step']:7.1f} ms/step "
                f"[{low:.1f}, {high:.1f}]"
                f"  warm-up {row['warm_up_seconds']:5.1f} s"
            )
        ratio = steps["in the model"]["ms_per_step"] / steps["in tf.data"]["ms_per_step"]
        print(f"  in the model / in tf.data: {ratio:.2f}")


if __name__ == "__main__":
    main()
