"""Where a training step's time goes, on each Keras backend: the notebook's network built up a piece
at a time, each version trained in batches of 128, as the notebook trains it.

    python -m benchmarks.profile_layers                  # tensorflow, and jax when installed
    python -m benchmarks.profile_layers --backend jax    # any of tensorflow, jax, torch

The versions, each a model of its own (the notebook's cells, run by tag, build the layers):

* the first convolution block alone (convolution, batch normalisation, ReLU, pooling), then a
  softmax over the 10 digits; then the first two blocks; then the whole network without
  augmentation: the differences are what each block adds;
* the whole network with the first random layer (shifts), then the first two (and turns), then all
  three (and zooms): the notebook's model. Each random layer resamples every image once.

Each version first trains one batch (tracing and compiling), then the versions take turns, pass
after pass (interleaved, so that a busy spell of the machine hits all of them). It prints the median
milliseconds per step and the share of the notebook's step, and writes
``outputs/profile_layers.json``. A fresh process per backend, since Keras picks its backend at
import.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.profile_backends import command_line
from notebooks.notebook_tools import run_tagged_cells

VERSIONS = (
    "block 1",
    "blocks 1-2",
    "network, no augmentation",
    "+ shifts",
    "+ shifts, turns",
    "+ shifts, turns, zooms (the notebook)",
)


def models(cells: dict) -> dict:
    """Each version of the notebook's model, built from its own cells (fresh layers for each)."""
    keras, layers = cells["keras"], cells["layers"]

    def network() -> list:
        return [
            layer
            for layer in cells["build_model"]().layers
            if not type(layer).__name__.startswith("Random")
        ]

    def head() -> list:
        return [layers.Flatten(), layers.Dense(10, activation="softmax")]

    probe = network()
    first_pool = next(i for i, layer in enumerate(probe) if isinstance(layer, layers.MaxPooling2D))
    second_relu = [i for i, layer in enumerate(probe) if isinstance(layer, layers.ReLU)][1]
    built = {
        "block 1": network()[: first_pool + 1] + head(),
        "blocks 1-2": network()[: second_relu + 1] + head(),
        "network, no augmentation": network(),
        "+ shifts": cells["augmentation_layers"]()[:1] + network(),
        "+ shifts, turns": cells["augmentation_layers"]()[:2] + network(),
        "+ shifts, turns, zooms (the notebook)": cells["build_model"]().layers,
    }
    return {
        name: keras.Sequential([keras.Input(shape=(28, 28, 1)), *stack])
        for name, stack in built.items()
    }


def profile(steps: int, passes: int) -> dict:
    """Runs in a child process whose KERAS_BACKEND is set."""
    cells = run_tagged_cells("preprocess", "model")  # and the cells they need
    batch = cells["BATCH_SIZE"]
    x, y = cells["x_train"][: batch * steps], cells["y_train"][: batch * steps]
    versions = models(cells)
    times = {name: [] for name in versions}
    for model in versions.values():
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(x[:batch], y[:batch], batch_size=batch, epochs=1, verbose=0)  # trace, compile
    for _ in range(passes):
        for name, model in versions.items():
            start = time.perf_counter()
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
            times[name].append(1000 * (time.perf_counter() - start) / steps)
    return {
        "backend": cells["BACKEND"],
        "versions": cells["VERSIONS"],
        "ms_per_step": {name: statistics.median(values) for name, values in times.items()},
        "passes": times,
    }


def report(results: dict) -> None:
    print(
        "\nms per training step (batches of 128), median over the passes; share of the notebook's"
    )
    for backend, result in results.items():
        steps = result["ms_per_step"]
        whole = steps[VERSIONS[-1]]
        print(f"{backend} ({', '.join(f'{k} {v}' for k, v in result['versions'].items())})")
        for name in VERSIONS:
            print(f"  {name:<40} {steps[name]:7.1f} ms  {steps[name] / whole:5.0%}")
    if {"tensorflow", "jax"} <= set(results):
        for name in (VERSIONS[2], VERSIONS[-1]):
            ratio = results["jax"]["ms_per_step"][name] / results["tensorflow"]["ms_per_step"][name]
            print(f"jax / tensorflow, {name}: {ratio:.2f}")


def main(argv: list[str] | None = None) -> dict:
    title = __doc__.splitlines()[0]
    return command_line(argv, "benchmarks.profile_layers", title, profile, report, 40, 5)


if __name__ == "__main__":
    main()
