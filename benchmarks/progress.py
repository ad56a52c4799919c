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
            "read back": 0.0,
        }  # first guesses
        self.overhead = {
            "reference": 10.0,
            "notebook": 90.0,
            "quick": 60.0,
            "read back": 0.0,
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
    """A file-like sink for the notebook's output (papermill's stdout_file) that reports each epoch
    of the CNN's training, from what Keras prints with verbose=2.

    Keras prints "Epoch 3/8" as an epoch starts (only when there are several) and, as it ends, one
    line of steps and seconds: "422/422 - 13s - 30ms/step - accuracy: ...". The dense baseline
    trains first, for its own number of epochs: only a training of the run's planned epochs is
    counted as the CNN's. (Were the two the same, the baseline's epochs would show first, and the
    count would start again at the CNN's first epoch.)
    """

    def __init__(self, progress: Progress) -> None:
        self.progress, self.epoch, self.buffer = progress, 0, ""
        self.started: tuple[int, int] | None = None  # the epoch that Keras said was starting, of N

    def write(self, text: str) -> None:
        self.buffer += text
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            starting = re.fullmatch(r"Epoch (\d+)/(\d+)", line.strip())
            if starting:
                self.started = (int(starting.group(1)), int(starting.group(2)))
                continue
            seconds = re.match(r"\d+/\d+ - (\d+)s - .*step", line.strip())
            if seconds:
                epoch, epochs = self.started or (1, 1)  # a single epoch is not numbered
                self.started = None
                if epochs == self.progress.plan[self.progress.run][1]:
                    self.epoch = epoch
                    self.progress.epoch_done(epoch, float(seconds.group(1)))

    def flush(self) -> None:
        pass
