"""Progress of a long benchmark: which run of how many, the epoch, and the time left."""

from __future__ import annotations

import re
import time


class Progress:
    """One line per run and per epoch, with an estimate of the time left."""

    def __init__(self, plan: list[tuple[str, int]]) -> None:
        self.plan = plan  # (kind, epochs) per run
        self.start = time.perf_counter()
        self.seconds_per_epoch = {
            "reference": 35.0,
            "notebook": 60.0,
            "quick": 25.0,
        }  # first guesses
        self.overhead = {
            "reference": 10.0,
            "notebook": 90.0,
            "quick": 60.0,
        }  # per run, beyond its epochs
        self.run = -1

    def next_run(self, label: str, cached: bool = False) -> None:
        self.run += 1
        self.label, self.epoch = label, 0
        done = " (done earlier: its result is read back)" if cached else ""
        print(
            f"[{self.run + 1}/{len(self.plan)}] {label}{done} ({self.elapsed()} elapsed, "
            f"{self.left()} left)",
            flush=True,
        )
        if cached:
            self.epoch = self.plan[self.run][1]

    def epoch_done(self, epoch: int, seconds: float) -> None:
        kind, epochs = self.plan[self.run]
        self.epoch = epoch
        self.seconds_per_epoch[kind] = (
            seconds if epoch == 1 else 0.7 * self.seconds_per_epoch[kind] + 0.3 * seconds
        )
        print(
            f"  [{self.run + 1}/{len(self.plan)}] {self.label}: "
            f"epoch {epoch}/{epochs} in {seconds:.0f} s "
            f"({self.elapsed()} elapsed, about {self.left()} left)",
            flush=True,
        )

    def left(self) -> str:
        def cost(kind: str, epochs: int, done: int = 0) -> float:
            return self.seconds_per_epoch[kind] * (epochs - done) + (
                self.overhead[kind] if not done else 0
            )

        if self.run < 0:
            seconds = sum(cost(k, e) for k, e in self.plan)
        else:
            kind, epochs = self.plan[self.run]
            seconds = cost(kind, epochs, self.epoch) + sum(
                cost(k, e) for k, e in self.plan[self.run + 1 :]
            )
        return f"{seconds / 60:.0f} min"

    def elapsed(self) -> str:
        return f"{(time.perf_counter() - self.start) / 60:.0f} min"


class EpochLines:
    """A file-like sink for the notebook's output (papermill's stdout_file) that reports each epoch.

    Keras's verbose=2 prints one line per epoch: "422/422 - 13s - 30ms/step - accuracy: ...".
    """

    def __init__(self, progress: Progress) -> None:
        self.progress, self.epoch, self.buffer = progress, 0, ""
        self.training = (
            False  # the dense baseline trains first: count the CNN's epochs, after its score
        )

    def write(self, text: str) -> None:
        self.buffer += text
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            self.training = self.training or "the dense network reads" in line
            seconds = re.match(r"\d+/\d+ - (\d+)s - .*step", line.strip())
            if seconds and self.training:
                self.epoch += 1
                self.progress.epoch_done(self.epoch, float(seconds.group(1)))

    def flush(self) -> None:
        pass
