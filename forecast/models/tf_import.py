"""One place that imports TensorFlow and Keras, quietly.

TensorFlow's native start-up messages (CUDA probing, oneDNN notices) are written to file
descriptor 2 before its logging is configured, so no environment variable silences them
all; they are noise to a user reading a report. The first import runs with that
descriptor pointed at /dev/null (unless FCAST_TF_VERBOSE is set), and TensorFlow's Python
logger is limited to errors (it would warn about retracing once per walk-forward fold).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys


@contextlib.contextmanager
def _native_stderr_silenced():
    if os.environ.get("FCAST_TF_VERBOSE"):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor (some notebook front ends)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def tensorflow():
    """The `tensorflow` module, imported (and its first device probe run) quietly."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _native_stderr_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")  # the CUDA probe prints on first call
    tf.get_logger().setLevel(logging.ERROR)
    return tf


def keras():
    """The `keras` module, with TensorFlow imported quietly first."""
    tensorflow()
    import keras as _keras

    return _keras
