"""The keras.io example "Simple MNIST convnet", trained exactly as published, for the benchmark.

https://keras.io/examples/vision/mnist_convnet/
"""

from __future__ import annotations

import time

import keras
import numpy as np
from keras import layers

from benchmarks.progress import Progress
from notebooks.notebook_tools import ROOT

# The keras.io example's training, as published.
REFERENCE = {
    "epochs": 15,
    "batch_size": 128,
    "validation_split": 0.1,
    "optimizer": "adam",
    "loss": "categorical_crossentropy",
}


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST preprocessed as keras.io does it: (N, 28, 28, 1) float32 in [0, 1], one-hot labels."""
    with np.load(ROOT / "data" / "mnist.npz", allow_pickle=False) as data:
        x_train, y_train, x_test, y_test = (
            data[k] for k in ("x_train", "y_train", "x_test", "y_test")
        )
    x_train = np.expand_dims(x_train.astype("float32") / 255, -1)
    x_test = np.expand_dims(x_test.astype("float32") / 255, -1)
    return (
        x_train,
        keras.utils.to_categorical(y_train, 10),
        x_test,
        keras.utils.to_categorical(y_test, 10),
    )


def reference_model() -> keras.Model:
    """The keras.io "Simple MNIST convnet", layer for layer."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


class TestCurve(keras.callbacks.Callback):
    """After each epoch, record the training seconds so far and the test accuracy. It only records:
    it changes nothing in training and selects nothing; its own evaluation time is not counted as
    training."""

    def __init__(self, x_test: np.ndarray, y_test: np.ndarray, progress: Progress) -> None:
        super().__init__()
        self.x_test, self.y_test, self.progress = x_test, y_test, progress
        self.train_seconds, self.points = 0.0, []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.start
        self.train_seconds += seconds
        _, accuracy = self.model.evaluate(self.x_test, self.y_test, verbose=0)
        self.points.append(
            {"epoch": epoch + 1, "train_seconds": self.train_seconds, "test_accuracy": accuracy}
        )
        self.progress.epoch_done(epoch + 1, seconds)


def train_reference(
    seed: int, epochs: int, data: tuple, progress: Progress
) -> tuple[keras.Model, dict]:
    """The reference trained for ``epochs``; its final test accuracy, training seconds and curve."""
    x_train, y_train, x_test, y_test = data
    keras.utils.set_random_seed(seed)
    model = reference_model()
    model.compile(loss=REFERENCE["loss"], optimizer=REFERENCE["optimizer"], metrics=["accuracy"])
    curve = TestCurve(x_test, y_test, progress)
    model.fit(
        x_train,
        y_train,
        batch_size=REFERENCE["batch_size"],
        epochs=epochs,
        validation_split=REFERENCE["validation_split"],
        callbacks=[curve],
        verbose=0,
    )
    final = curve.points[-1]
    row = {
        "seed": seed,
        "test_accuracy": float(final["test_accuracy"]),
        "train_seconds": curve.train_seconds,
    }
    return model, dict(row, curve=[dict(p, seed=seed) for p in curve.points])
