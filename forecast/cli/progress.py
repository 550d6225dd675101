"""Progress on stderr while models train: walk-forward folds and Keras epochs."""

from __future__ import annotations

import contextlib

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from forecast.cli.console import err


def _is_keras_model(model: str) -> bool:
    # Imported here: `fcast data ...` loads this module and needs no model code.
    from forecast.models.registry import is_keras_model

    return is_keras_model(model)


def report_device(model: str, device: str, mixed_precision: bool = False) -> None:
    """Say where a Keras model trains (imports TensorFlow: Keras models only).

    `model` is a registry name or `module:Class` / `path/to/file.py:Class`.
    """
    if _is_keras_model(model):
        from forecast.models.device import describe_device

        err.print(f"device: {describe_device(device, mixed_precision)}")


class TrainingProgress:
    """One rich display with a fold bar and, for Keras models, an epoch bar."""

    def __init__(self, bar: Progress, label: str):
        self._bar = bar
        self._folds = bar.add_task(label, total=None)
        self._epochs = None

    def folds(self, done: int, total: int) -> None:
        """`progress(k, n)` callback of walk-forward: fold k (0-based) of n is done."""
        self._bar.update(self._folds, completed=done + 1, total=total)

    def keras_callbacks(self, model: str) -> list | None:
        """A Keras callback advancing the epoch bar (imports Keras: Keras models only)."""
        # Disabled first: with --json or --model-path, `model` is never resolved.
        if self._bar.disable or not _is_keras_model(model):
            return None
        from forecast.models.backend import keras as keras_module

        keras = keras_module()

        display, task_holder = self._bar, self

        class EpochProgress(keras.callbacks.Callback):
            fcast_observer = True  # reports progress, never changes training (cache key)

            def on_train_begin(self, logs=None):
                total = self.params.get("epochs")
                if task_holder._epochs is None:
                    task_holder._epochs = display.add_task("epochs", total=total)
                display.reset(task_holder._epochs, total=total, description="epochs")

            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                text = f"epoch {epoch + 1} loss {logs.get('loss', float('nan')):.4f}"
                if "val_loss" in logs:
                    text += f" val {logs['val_loss']:.4f}"
                display.update(task_holder._epochs, advance=1, description=text)

        return [EpochProgress()]


@contextlib.contextmanager
def training_progress(label: str, enabled: bool = True):
    """Yield a `TrainingProgress` drawing on stderr (nothing when disabled)."""
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True, disable=not enabled,
    ) as bar:
        yield TrainingProgress(bar, label)
