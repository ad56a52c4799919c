"""The benchmark's table, printed, and its accuracy-against-time picture."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
from pathlib import Path

import matplotlib.pyplot as plt


def report(r: dict) -> None:
    """The table and the figures derived from it."""
    print(f"\n{r['device']}; " + ", ".join(f"{k} {v}" for k, v in r["versions"].items()))
    header = f"{'recipe':<20} {'params':>8} {'epochs':>6} {'seeds':>5} {'train s':>8}"
    header += f" {'test accuracy':>30}"
    print(header + f" {'images/s':>9} {'ms/image':>9}")
    print("-" * (len(header) + 20))
    for row in (r["reference"], r["notebook"]):
        low, high = row["test_accuracy_min"], row["test_accuracy_max"]
        accuracy = f"{row['test_accuracy']:.2%} [{low:.2%}, {high:.2%}]"
        print(
            f"{row['model']:<20} {row['params']:>8,} {row['epochs']:>6} {len(row['seeds']):>5} "
            f"{row['train_seconds_median']:>8.1f} {accuracy:>30} {row['images_per_second']:>9,.0f} "
            f"{row['latency_ms']:>9.2f}"
        )
    print(
        "(train s: median over seeds; test accuracy: mean [min, max]; images/s and ms/image: "
        "medians over "
        f"{r['inference_repeats']} alternating repeats)"
    )
    for row in (r["reference"], r["notebook"]):
        seeds = ", ".join(
            f"{s['seed']}: {s['test_accuracy']:.2%} in {s['train_seconds']:.0f} s"
            for s in row["seeds"]
        )
        print(f"  {row['model']} per seed: {seeds}")
        low, high = row["images_per_second_range"]
        print(f"  {row['model']} inference: {low:,.0f} to {high:,.0f} images/s over the repeats")
    validation = ", ".join(
        f"{s['seed']}: {s['val_accuracy']:.2%} (dense baseline {s['baseline_val_accuracy']:.2%})"
        for s in r["notebook"]["seeds"]
    )
    print(f"  notebook validation accuracy per seed: {validation}")
    print(f"training time, notebook / reference (medians): {r['train_time_ratio']:.2f}x")
    quick = r.get("quick_mode")
    if quick:
        low, high = quick["test_accuracy_min"], quick["test_accuracy_max"]
        seeds = ", ".join(
            f"{s['seed']}: {s['test_accuracy']:.2%} in {s['train_seconds']:.0f} s"
            for s in quick["seeds"]
        )
        print(
            f"quick mode ({quick['epochs']} epochs): test accuracy {quick['test_accuracy']:.2%} "
            f"[{low:.2%}, {high:.2%}], training {quick['train_seconds_median']:.0f} s (median), "
            f"{r['quick_train_time_ratio']:.2f}x the reference's; per seed {seeds}"
        )
    print(
        f"test accuracy, notebook - reference (means): {100 * r['accuracy_difference']:+.2f} points"
    )
    target = r["reference"]["test_accuracy"]
    if r["time_to_reference_seconds"] is None:
        print(f"time to the reference's mean accuracy ({target:.2%}): not reached")
    else:
        print(
            f"time to the reference's mean accuracy ({target:.2%}): {r['time_to_reference']} "
            f"{r['time_to_reference_seconds']:.0f} s of training, "
            f"{r['time_to_reference_ratio']:.2f}x the "
            f"reference's {r['reference']['train_seconds_median']:.0f} s"
        )
    budgets = sorted(
        (p for p in r["curve"]["notebook"] if p["kind"] == "budget"), key=lambda p: p["epochs"]
    )
    if budgets:
        print(
            "notebook's recipe by budget: "
            + ", ".join(
                f"{p['epochs']} ep {p['test_accuracy']:.2%} in {p['train_seconds']:.0f} s"
                for p in budgets
            )
        )
    base = r["backends"].get("tensorflow", {}).get("seconds_per_step")
    for name, row in r["backends"].items():
        relative = (
            f" ({row['seconds_per_step'] / base:.2f}x tensorflow)"
            if base and name != "tensorflow"
            else ""
        )
        print(
            f"backend {name}: {1000 * row['seconds_per_step']:.0f} ms/step{relative}, first epoch "
            f"{row['first_epoch_seconds']:.0f} s, "
            f"test accuracy {row['test_accuracy']:.2%} (quick mode, "
            f"{row['epochs']} epochs on {row['train_samples']:,} images)"
        )


def plot_curve(curve: dict, reference_accuracy: float, reached: float | None, path: Path) -> None:
    """Test accuracy against training seconds: the reference after each epoch, the notebook by
    budget."""
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
    if budgets:  # phase 2 may be skipped
        epochs = ", ".join(str(p["epochs"]) for p in budgets)
        ax.plot(
            [p["train_seconds"] for p in budgets],
            [100 * p["test_accuracy"] for p in budgets],
            "s-",
            color="tab:orange",
            label=f"this notebook, one run per budget ({epochs} epochs, seed 42)",
        )
    quick = curve.get("quick", [])
    if quick:
        ax.plot(
            [p["train_seconds"] for p in quick],
            [100 * p["test_accuracy"] for p in quick],
            "^",
            color="tab:green",
            label=f"this notebook, quick mode ({quick[0]['epochs']} epochs), "
            + "seeds "
            + ", ".join(str(p["seed"]) for p in quick),
        )
    seeds = ", ".join(str(p["seed"]) for p in full)
    ax.plot(
        [p["train_seconds"] for p in full],
        [100 * p["test_accuracy"] for p in full],
        "D",
        color="tab:red",
        label=f"this notebook, full run, the default ({full[0]['epochs']} epochs), seeds {seeds}",
    )
    ax.axhline(
        100 * reference_accuracy,
        color="gray",
        ls="--",
        lw=1,
        label="reference's final mean accuracy",
    )
    if reached is not None and budgets:  # without budgets, the full runs only bound it
        ax.axvline(
            reached, color="gray", ls=":", lw=1, label=f"notebook reaches it: {reached:.0f} s"
        )
    low = min(100 * p["test_accuracy"] for p in curve["notebook"] + curve["reference"] + quick)
    ax.set_ylim(max(low - 0.1, 97.0), 100.0)
    ax.set_title("Test accuracy against training time, one machine")
    ax.set_xlabel("training seconds")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
