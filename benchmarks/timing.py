"""Timing arithmetic for the benchmark: inference speed, and the time a curve needs to reach a
score."""

from __future__ import annotations

import statistics
import time

import keras
import numpy as np


def time_inference(models: dict[str, keras.Model], x_test: np.ndarray, repeats: int) -> dict:
    """Throughput (batches of 256 over the test set) and single-image latency, alternating the
    models."""
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
    """Training seconds at which the curve first reaches ``target``, interpolating linearly between
    runs."""
    points = sorted(points, key=lambda p: p["train_seconds"])
    for i, point in enumerate(points):
        if point["test_accuracy"] >= target:
            if i == 0:
                return point["train_seconds"], "at most"  # the shortest run is already there
            before = points[i - 1]
            share = (target - before["test_accuracy"]) / (
                point["test_accuracy"] - before["test_accuracy"]
            )
            seconds = before["train_seconds"] + share * (
                point["train_seconds"] - before["train_seconds"]
            )
            return seconds, "interpolated"
    return None, "not reached"


def seconds_per_step(metrics: dict) -> float:
    """A notebook run's seconds per training step: its median epoch after the first (which
    compiles)."""
    seconds = [epoch["seconds"] for epoch in metrics["history"]]
    return statistics.median(seconds[1:] or seconds) / metrics["steps_per_epoch"]
