"""Where does a training step's time go on each Keras backend? The evidence for the README's backend notes.

    python benchmarks/profile_backends.py                      # tensorflow and jax (when installed)
    python benchmarks/profile_backends.py --backend torch      # any of tensorflow, jax, torch

For each backend (a fresh process each, since Keras picks its backend at import) it times training steps
of the notebook's own network and augmentation layers (its cells, run by tag), in batches of 128 like the
notebook, in four set-ups:

* ``network``: the network alone, no augmentation;
* ``augmentation``: the three random image layers alone (followed by a one-layer classifier);
* ``augmentation in the model``: the layers at the front of the model, inside the compiled step (the
  notebook's design before it moved them);
* ``augmentation in tf.data``: the network fed by the notebook's ``train_dataset`` (its design now).

All four read the same images through tf.data (plain batches for the first three). Each trains one warm-up
batch (which includes tracing and compiling the step), then 40 steps, three times over; it prints the median
milliseconds per step of the three and the warm-up seconds, and writes ``outputs/profile_backends.json``.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = 40
REPEATS = 3  # timings of 40 steps vary from one pass to the next: the median of three


def profile() -> dict:
    """Runs in a child process whose KERAS_BACKEND is set."""
    sys.path.insert(0, str(ROOT / "tests"))
    from notebook_helpers import BEFORE_TRAINING_TAGS, run_tagged_cells

    cells = run_tagged_cells("parameters", *BEFORE_TRAINING_TAGS)
    keras, tf, layers = cells["keras"], cells["tf"], cells["layers"]
    x, y = cells["x_train"][: 128 * (STEPS + 1)], cells["y_train"][: 128 * (STEPS + 1)]

    def augmentation_layers() -> list:
        return [
            layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
            layers.RandomRotation(0.03, fill_mode="constant"),
            layers.RandomZoom(0.1, fill_mode="constant"),
        ]

    def timed(model: keras.Model, data: tf.data.Dataset) -> dict:
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        start = time.perf_counter()
        model.fit(data.take(1), verbose=0)  # one batch: traces and compiles the step
        warm_up = time.perf_counter() - start
        passes = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            model.fit(data.skip(1), verbose=0)
            passes.append(1000 * (time.perf_counter() - start) / STEPS)
        return {"ms_per_step": statistics.median(passes), "passes": passes, "warm_up_seconds": warm_up}

    plain = tf.data.Dataset.from_tensor_slices((x, y)).batch(128)  # the same input path for every set-up
    inputs, head = keras.Input((28, 28, 1)), [layers.Flatten(), layers.Dense(10, activation="softmax")]
    results = {
        "network": timed(cells["build_model"](), plain),
        "augmentation": timed(keras.Sequential([inputs, *augmentation_layers(), *head]), plain),
        "augmentation in the model": timed(
            keras.Sequential([inputs, *augmentation_layers(), *cells["build_model"]().layers]), plain
        ),
        "augmentation in tf.data": timed(cells["build_model"](), cells["train_dataset"](x, y)),
    }
    return {"backend": keras.backend.backend(), "versions": {"keras": keras.__version__}, "steps": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=["tensorflow", "jax", "torch"])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(profile()))
        return
    backends = args.backend or ["tensorflow"] + (["jax"] if importlib.util.find_spec("jax") else [])
    results = {}
    for backend in backends:
        print(f"profiling {backend} ...", flush=True)
        child = subprocess.run(
            [sys.executable, __file__, "--child"],
            env=dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2", MNIST_QUICK="1"),
            capture_output=True,
            text=True,
            check=True,
        )
        results[backend] = json.loads(child.stdout.strip().splitlines()[-1])["steps"]
    names = list(next(iter(results.values())))
    print(f"\nms per training step (batches of 128), warm-up seconds in brackets:\n{'':<28}" +
          "".join(f"{b:>20}" for b in backends))  # fmt: skip
    for name in names:
        row = "".join(
            f"{results[b][name]['ms_per_step']:>10.0f} ({results[b][name]['warm_up_seconds']:>5.1f} s)"
            for b in backends
        )
        print(f"{name:<28}{row}")
    out = Path(os.environ.get("MNIST_OUTPUT_ROOT", ROOT)) / "outputs" / "profile_backends.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
