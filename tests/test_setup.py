"""The notebook's setup cell (run by tag): the settings from papermill or the environment, with
their defaults and their checks, and the device report, which shows a GPU error only where there is
a GPU to miss."""

from __future__ import annotations

import contextlib
import io
import os
import re

import pytest

from notebooks.notebook_tools import run_tagged_cells
from tests.helpers import cell_source


def setup(**injected) -> dict:
    """The parameters cell, the values papermill would inject after it, then the setup cell."""
    namespace = run_tagged_cells("parameters")
    namespace.update(injected)
    return run_tagged_cells("setup", namespace=namespace)


@pytest.mark.parametrize(
    ("name", "value"),
    [("EPOCHS", 0), ("TRAIN_SAMPLES", 0), ("VALIDATION_SPLIT", 1.0), ("LABEL_SMOOTHING", 1.0)],
)
def test_an_impossible_setting_is_a_clear_error(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"{name} must be .*, got {value}"):
        setup(**{name: value})


def test_train_samples_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNIST_TRAIN_SAMPLES", "1234")
    assert setup()["TRAIN_SAMPLES"] == 1234
    monkeypatch.delenv("MNIST_TRAIN_SAMPLES")
    for quick in ("1", "0"):  # quick mode trains on fewer epochs, not on fewer images
        monkeypatch.setenv("MNIST_QUICK", quick)
        assert setup()["TRAIN_SAMPLES"] is None  # every image


def documented_epochs() -> tuple[int, int]:
    """The full and quick defaults of EPOCHS, as the parameters cell's comment states them."""
    (line,) = [line for line in cell_source("parameters").splitlines() if line.startswith("EPOCHS")]
    full, quick = re.search(r"None: (\d+), or (\d+) in quick mode", line).groups()
    return int(full), int(quick)


@pytest.mark.parametrize(
    ("quick", "is_quick"), [("1", True), ("true", True), ("Yes", True), ("0", False)]
)
def test_the_defaults_nobody_runs(
    monkeypatch: pytest.MonkeyPatch, quick: str, is_quick: bool
) -> None:
    """MNIST_QUICK spelled 1, true or yes; the epochs of quick and full mode, when nothing sets
    them, are those that the parameters cell's comment gives."""
    monkeypatch.setenv("MNIST_QUICK", quick)
    monkeypatch.delenv("MNIST_EPOCHS")
    namespace = setup()
    full, quick_epochs = documented_epochs()
    assert (namespace["QUICK"], namespace["EPOCHS"]) == (
        is_quick,
        quick_epochs if is_quick else full,
    )
    assert quick_epochs < full
    assert setup(EPOCHS=7)["EPOCHS"] == 7  # papermill's value wins over the default


def device_report(monkeypatch: pytest.MonkeyPatch, driver: bool, failing: bool) -> str:
    """What the setup prints when Keras lists the devices, with an NVIDIA driver present or not, and
    with the backend's C++ code writing a CUDA error to the error stream (file descriptor 2), as a
    failing driver makes TensorFlow do."""
    keras = setup()["keras"]

    def list_devices(device_type=None):
        if failing:
            os.write(2, b"W0000 00:00:1.0 42 cuda_executor.cc:1] a warning that is only noise\n")
            os.write(
                2, b"E0000 00:00:1.0 42 cuda.cc:52] failed call to cuInit: CUDA_ERROR_NO_DEVICE"
            )
            os.write(2, b"\n")
        return ["cpu:0"]

    exists = os.path.exists
    monkeypatch.setattr(keras.distribution, "list_devices", list_devices)
    monkeypatch.setattr(
        os.path, "exists", lambda path: driver if path == "/proc/driver/nvidia" else exists(path)
    )
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        setup()
    return printed.getvalue()


def test_no_gpu_and_no_driver_prints_nothing_alarming(monkeypatch: pytest.MonkeyPatch) -> None:
    report = device_report(monkeypatch, driver=False, failing=True)
    assert "device: no GPU found, training on the CPU" in report
    assert "CUDA" not in report and "error" not in report.lower()


def test_a_failing_driver_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    report = device_report(monkeypatch, driver=True, failing=True)
    assert "reported: failed call to cuInit: CUDA_ERROR_NO_DEVICE" in report
    assert "noise" not in report  # warnings are dropped, errors kept
    assert "reported" not in device_report(monkeypatch, driver=True, failing=False)


def test_label_smoothing_can_be_set_by_papermill() -> None:
    """LABEL_SMOOTHING is in the parameters cell, so papermill's injected cell, which comes right
    after it, sets it before anything reads it."""
    import papermill

    from notebooks.notebook_tools import NOTEBOOK

    injected = papermill.parameterize.parameterize_notebook(
        papermill.iorw.load_notebook_node(str(NOTEBOOK)), {"LABEL_SMOOTHING": 0.0, "EPOCHS": 2}
    )
    code = [cell for cell in injected.cells if cell.cell_type == "code"]
    tags = [cell.metadata.get("tags", []) for cell in code]
    where = tags.index(["injected-parameters"])
    assert "parameters" in tags[where - 1] and "setup" in tags[where + 1]
    assert "LABEL_SMOOTHING" in code[where - 1].source
    namespace = run_tagged_cells("parameters")
    exec(code[where].source, namespace)
    namespace = run_tagged_cells("setup", namespace=namespace)
    assert (namespace["LABEL_SMOOTHING"], namespace["EPOCHS"]) == (0.0, 2)
