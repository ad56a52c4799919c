"""The notebook's knobs (its parameters and config cells, run by tag): the environment sets them, and a value
that cannot work stops the run with a message that names the knob."""

from __future__ import annotations

import pytest
from notebook_helpers import run_tagged_cells


@pytest.mark.parametrize(("name", "value"), [("EPOCHS", 0), ("TRAIN_SAMPLES", 0), ("VALIDATION_SPLIT", 1.0)])
def test_an_impossible_knob_is_a_clear_error(name: str, value: float) -> None:
    namespace = run_tagged_cells("imports", "parameters")
    namespace[name] = value  # as `papermill -p NAME VALUE` injects it after the parameters cell
    with pytest.raises(ValueError, match=f"{name} must be"):
        run_tagged_cells("config", namespace=namespace)


def test_train_samples_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNIST_TRAIN_SAMPLES", "1234")
    assert run_tagged_cells("imports", "parameters", "config")["TRAIN_SAMPLES"] == 1234
    monkeypatch.delenv("MNIST_TRAIN_SAMPLES")
    assert run_tagged_cells("imports", "parameters", "config")["TRAIN_SAMPLES"] == 18_000  # quick mode
    monkeypatch.setenv("MNIST_QUICK", "0")
    assert run_tagged_cells("imports", "parameters", "config")["TRAIN_SAMPLES"] is None  # full: every image
