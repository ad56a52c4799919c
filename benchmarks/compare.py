"""Benchmark: the notebook's recipe against the keras.io "Simple MNIST convnet", several seeds, one
machine.

    python -m benchmarks.compare                  # 3 seeds, the curve, TensorFlow and JAX rows
    python -m benchmarks.compare --seeds 1        # one seed of each recipe: a shorter run
    python -m benchmarks.compare --quick          # a smoke run of every step, 1 epoch, fewer images
    python -m benchmarks.compare --backend torch  # the backend rows to measure (repeatable)
    python -m benchmarks.compare --budgets --no-backends  # the seeds alone (phases 1 and 3)

In one invocation it runs four phases, each a function below:

1. ``seeds``: the keras.io reference, trained exactly as published
   (https://keras.io/examples/vision/mnist_convnet/), the notebook in full mode and the notebook in
   quick mode (papermill, a fresh kernel each), seed after seed, taking turns so that a busy spell
   of the machine hits all three; after each of the reference's epochs a callback records its test
   accuracy (it only records; nothing is chosen by it);
2. ``budgets``: the notebook's recipe at other budgets (1, 2, 4 and 8 epochs, seed 42), which
   gives its accuracy against training time; from that curve, the training time it needs to reach
   the reference's final mean accuracy. A budget that full or quick mode already ran (the same
   epochs on all the images) is read from that run, not trained again;
3. ``inference``: both seed-42 models timed, alternating, several times: throughput on the 10,000
   test images and the median latency of single-image predictions;
4. ``backends``: the notebook in quick mode on each Keras backend asked for: seconds per step.

Every run keeps its result in its own file under ``outputs/benchmark/``: stopped and started again,
the benchmark reads back the runs already done and goes on with the next (delete the folder to start
afresh). It prints its progress (run, epoch, time left), then a table, and writes
``outputs/benchmark.json`` and ``outputs/benchmark.png`` (the curve). Set MNIST_OUTPUT_ROOT to write
models/ and outputs/ elsewhere. The full and quick modes' epochs and images are the notebook's own
defaults, read from its cells; full mode refuses MNIST_QUICK, MNIST_EPOCHS and MNIST_TRAIN_SAMPLES,
which would change them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras

from benchmarks import reference as ref
from benchmarks.progress import Progress
from benchmarks.report import plot_curve, report
from benchmarks.runs import cached, refuse_overrides, run_notebook
from benchmarks.timing import seconds_per_step, time_inference, time_to_accuracy
from notebooks.notebook_tools import notebook_settings, output_root

SEEDS = (42, 43, 44, 45, 46)
BUDGETS = (1, 2, 4, 8)  # epochs of the shorter runs


def seeds(
    seeds: list[int],
    modes: dict[str, dict],
    reference_epochs: int,
    data: tuple,
    env: dict,
    progress,
) -> dict:
    """Phase 1: the reference and the notebook in each mode (``modes``: label → parameters), seed
    after seed, taking turns."""
    runs = output_root() / "outputs" / "benchmark"
    reference_rows, models, metrics = [], {}, {}
    rows: dict[str, list[dict]] = {mode: [] for mode in modes}
    for seed in seeds:
        label = f"reference_seed{seed}"
        model_path = runs / f"{label}.keras"
        progress.next_run(
            f"keras.io reference, seed {seed}", cached=(runs / f"{label}.json").exists()
        )

        def train(seed: int = seed, model_path: Path = model_path) -> dict:
            model, row = ref.train_reference(seed, reference_epochs, data, progress)
            model_path.parent.mkdir(parents=True, exist_ok=True)
            model.save(model_path)
            return row

        reference_rows.append(cached(runs / f"{label}.json", train))
        models[seed] = keras.models.load_model(model_path, compile=False)
        for mode, parameters in modes.items():
            found = run_notebook(
                f"{mode}_seed{seed}", dict(parameters, SEED=seed), env, progress, output_root()
            )
            keys = ("test_accuracy", "train_seconds", "val_accuracy", "baseline_val_accuracy")
            rows[mode].append({"seed": seed} | {key: found[key] for key in keys})
            if mode == "notebook":  # full mode's metrics describe the run
                metrics = found
    return {"reference": reference_rows, "models": models, "metrics": metrics} | rows


def budgets(epochs: list[int], done: dict[int, dict], env: dict, progress) -> list[dict]:
    """Phase 2: the notebook's recipe at other budgets, seed 42: points of accuracy against time.
    ``done`` holds seed 42's results of the budgets that full or quick mode already ran."""
    points = []
    for budget in epochs:
        parameters = {"QUICK": False, "EPOCHS": budget, "SEED": 42}
        metrics = done.get(budget) or run_notebook(
            f"notebook_{budget}epochs", parameters, env, progress, output_root()
        )
        point = {"seed": 42, "epochs": budget, "kind": "budget"}
        points.append(point | {key: metrics[key] for key in ("test_accuracy", "train_seconds")})
    return points


def backends(names: list[str], epochs: int, env: dict, progress) -> dict:
    """Phase 4: the notebook in quick mode on each backend: seconds per training step and
    accuracy. TensorFlow's is phase 1's quick run of seed 42 (the same run: read back)."""
    rows = {}
    for backend in names:
        parameters = {"QUICK": True, "EPOCHS": epochs, "SEED": 42}
        backend_env = dict(env, KERAS_BACKEND=backend)
        label = "quick_seed42" if backend == env["KERAS_BACKEND"] else f"quick_{backend}"
        metrics = run_notebook(label, parameters, backend_env, progress, output_root())
        rows[backend] = {
            "seconds_per_step": seconds_per_step(metrics),
            "first_epoch_seconds": metrics["history"][0]["seconds"],
            "test_accuracy": metrics["test_accuracy"],
            "epochs": metrics["parameters"]["epochs"],
            "train_samples": metrics["parameters"]["train_samples"],
        }
    return rows


def recipe_row(name: str, params: int, epochs: int, rows: list[dict]) -> dict:
    accuracies = [s["test_accuracy"] for s in rows]
    seconds = [s["train_seconds"] for s in rows]
    return {
        "model": name,
        "params": params,
        "epochs": epochs,
        "seeds": rows,
        "test_accuracy": statistics.mean(accuracies),
        "test_accuracy_min": min(accuracies),
        "test_accuracy_max": max(accuracies),
        "train_seconds": statistics.mean(seconds),
        "train_seconds_median": statistics.median(seconds),
    }


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run of every step, not a measurement"
    )
    parser.add_argument(
        "--seeds", type=int, default=None, help="seeds per recipe (default 3; 1 with --quick)"
    )
    parser.add_argument(
        "--budgets",
        type=int,
        nargs="*",
        default=list(BUDGETS),
        help="epochs of the shorter runs of phase 2 (none: skip it)",
    )
    parser.add_argument("--no-backends", action="store_true", help="skip phase 4")
    parser.add_argument(
        "--backend",
        action="append",
        choices=["tensorflow", "jax", "torch"],
        help="a backend to measure in quick mode (default: tensorflow, and jax when installed)",
    )
    return parser.parse_args(argv)


@dataclass
class Plan:
    """What one invocation runs: the seeds, the budgets, the backends and their epochs, the
    kernels' environment and the data the reference trains on."""

    quick: bool
    seeds: list[int]
    budgets: list[int]
    backends: list[str]
    reference_epochs: int
    full: dict
    quick_epochs: int
    env: dict
    data: tuple

    def modes(self) -> dict[str, dict]:
        """The notebook's runs for each seed of phase 1: full mode, and quick mode besides (a smoke
        run's full mode is already a quick one)."""
        quick = {"QUICK": True, "EPOCHS": self.quick_epochs}
        return {"notebook": self.full} | ({} if self.quick else {"quick": quick})

    def done_budgets(self) -> dict[int, str]:
        """Budgets (epochs on all the images) that phase 1's seed-42 runs already train: the
        label of the run that gives each."""
        all_images = notebook_settings(True)["TRAIN_SAMPLES"] is None
        done = {self.full["EPOCHS"]: "notebook"}
        return done | ({self.quick_epochs: "quick"} if all_images and not self.quick else {})

    def runs(self) -> list[tuple[str, int]]:
        """Every run in order, for the progress lines: (kind, epochs)."""
        kinds = {"notebook": "quick" if self.quick else "notebook", "quick": "quick"}
        each_seed = [("reference", self.reference_epochs)] + [
            (kinds[mode], parameters["EPOCHS"]) for mode, parameters in self.modes().items()
        ]
        return (
            each_seed * len(self.seeds)
            + [("notebook", b) for b in self.budgets if b not in self.done_budgets()]
            + [
                ("quick", self.quick_epochs)
                if self.quick or backend != self.env["KERAS_BACKEND"]
                else ("read back", 0)  # phase 1's run of seed 42, read again: it takes no time
                for backend in self.backends
            ]
        )


def make_plan(args: argparse.Namespace) -> Plan:
    """The runs that the arguments ask for; the epochs of full and quick mode are the notebook's."""
    names = args.backend or ["tensorflow"] + (
        [] if args.quick or not importlib.util.find_spec("jax") else ["jax"]
    )
    data = ref.load_data()
    if args.quick:  # a smoke run trains the reference on as many images as quick mode
        samples = notebook_settings(True)["TRAIN_SAMPLES"]  # None: all of them
        data = (data[0][:samples], data[1][:samples], *data[2:])
    return Plan(
        quick=args.quick,
        seeds=list(SEEDS[: args.seeds or (1 if args.quick else 3)]),
        budgets=[] if args.quick else args.budgets,
        backends=[] if args.no_backends else names,
        reference_epochs=1 if args.quick else ref.REFERENCE["epochs"],
        full={"QUICK": True, "EPOCHS": 1}
        if args.quick
        else {"QUICK": False, "EPOCHS": notebook_settings(False)["EPOCHS"]},
        quick_epochs=1 if args.quick else notebook_settings(True)["EPOCHS"],
        # The kernels' environment: the notebook's defaults unless a parameter says otherwise; a
        # smoke run takes the training images its caller set.
        env={
            "KERAS_BACKEND": "tensorflow",
            "MNIST_QUICK": "0",
            "MNIST_EPOCHS": None,
            "MNIST_TRAIN_SAMPLES": os.environ.get("MNIST_TRAIN_SAMPLES") if args.quick else None,
        },
        data=data,
    )


def inference(reference_model: keras.Model, seed: int, x_test, repeats: int) -> dict:
    """Phase 3: the reference's and the notebook's models of one seed, timed alternately."""
    notebook_model = keras.models.load_model(
        output_root() / "outputs" / "benchmark" / f"notebook_seed{seed}.keras", compile=False
    )
    return time_inference(
        {"reference": reference_model, "notebook": notebook_model}, x_test, repeats
    )


def main(argv: list[str] | None = None) -> dict:
    args = arguments(argv)
    if not args.quick:  # a measurement of the notebook's full mode, with its own settings
        refuse_overrides()
    plan = make_plan(args)
    progress = Progress(plan.runs())
    print(
        f"benchmark: {len(plan.runs())} runs, seeds {plan.seeds}; "
        f"about {progress.left()} at first guess",
        flush=True,
    )
    found = seeds(plan.seeds, plan.modes(), plan.reference_epochs, plan.data, plan.env, progress)
    curve = {
        "reference": [point for row in found["reference"] for point in row.pop("curve")],
        "notebook": [dict(s, epochs=plan.full["EPOCHS"], kind="full") for s in found["notebook"]],
        "quick": [dict(s, epochs=plan.quick_epochs, kind="quick") for s in found.get("quick", [])],
    }
    done = {
        epochs: next(s for s in found[mode] if s["seed"] == 42)
        for epochs, mode in plan.done_budgets().items()
        if 42 in plan.seeds and mode in found
    }
    curve["notebook"] += budgets(plan.budgets, done, plan.env, progress)
    first = found["models"][plan.seeds[0]]
    reference = recipe_row(
        "keras.io reference", first.count_params(), plan.reference_epochs, found["reference"]
    )
    reference["recipe"] = dict(
        ref.REFERENCE, epochs=plan.reference_epochs, dropout=0.5, train_images=len(plan.data[0])
    )
    notebook = recipe_row(
        "notebook", found["metrics"]["params"], plan.full["EPOCHS"], found["notebook"]
    )
    repeats = 2 if plan.quick else 5
    timing = inference(first, plan.seeds[0], plan.data[2], repeats)
    reference |= timing["reference"]
    notebook |= timing["notebook"]
    quick = (
        recipe_row("quick mode", notebook["params"], plan.quick_epochs, found["quick"])
        if "quick" in found
        else None
    )
    reached, how = time_to_accuracy(curve["notebook"], reference["test_accuracy"])
    result = {
        "quick": plan.quick,
        "device": found["metrics"]["device"],
        "versions": found["metrics"]["versions"],
        "seeds": plan.seeds,
        "reference": reference,
        "notebook": notebook,
        "train_time_ratio": notebook["train_seconds_median"] / reference["train_seconds_median"],
        "accuracy_difference": notebook["test_accuracy"] - reference["test_accuracy"],
        "quick_mode": quick,
        "quick_train_time_ratio": None
        if quick is None
        else quick["train_seconds_median"] / reference["train_seconds_median"],
        "curve": curve,
        "time_to_reference_seconds": reached,
        "time_to_reference": how,
        "time_to_reference_ratio": None
        if reached is None
        else reached / reference["train_seconds_median"],
        "inference_repeats": repeats,
        "backends": backends(plan.backends, plan.quick_epochs, plan.env, progress),
    }
    report(result)
    outputs = output_root() / "outputs"
    (outputs / "benchmark.json").write_text(json.dumps(result, indent=2))
    plot_curve(curve, reference["test_accuracy"], reached, outputs / "benchmark.png")
    print(f"wrote outputs/benchmark.json and outputs/benchmark.png ({progress.elapsed()} in all)")
    return result


if __name__ == "__main__":
    main()
