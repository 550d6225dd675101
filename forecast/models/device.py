"""Where Keras models train: CPU or GPU, and whether mixed precision is used.

The Keras backend (`forecast.models.backend`) is imported inside these functions only,
so importing this module is cheap and nothing here assumes a GPU exists.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from forecast.errors import ConfigError

DEVICES = ("auto", "cpu", "gpu")


@functools.lru_cache(maxsize=1)
def visible_gpus() -> tuple[str, ...]:
    """Names of the GPUs the Keras backend can see (empty on a CPU-only machine)."""
    from forecast.models import backend

    return backend.visible_gpus()


def check_device(device: str) -> None:
    """Raise ConfigError unless `device` is one of auto, cpu, gpu (does not import TF)."""
    if device not in DEVICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")


def resolve_device(device: str = "auto") -> str:
    """Return "cpu" or "gpu": auto picks a GPU when the Keras backend sees one.

    Asking for "gpu" with none visible raises ConfigError.
    """
    check_device(device)
    if device == "cpu":
        return "cpu"
    has_gpu = bool(visible_gpus())
    if device == "gpu" and not has_gpu:
        raise ConfigError(
            f"device 'gpu' requested but {_backend()} sees no GPU; use 'auto' or 'cpu'"
        )
    return "gpu" if has_gpu else "cpu"


def use_mixed_precision(device: str, mixed_precision: bool) -> bool:
    """Whether to train in mixed float16: only on a GPU, and only when asked.

    An explicit "cpu" with mixed precision is contradictory and raises ConfigError; with
    "auto" on a CPU-only machine the request is ignored, so one config runs everywhere.
    """
    if mixed_precision and device == "cpu":
        raise ConfigError("mixed_precision needs a GPU; drop it or use device 'auto'/'gpu'")
    return bool(mixed_precision) and resolve_device(device) == "gpu"


@contextlib.contextmanager
def device_scope(device: str = "auto") -> Iterator[str]:
    """Context that places Keras ops on the chosen device; yields "cpu" or "gpu"."""
    from forecast.models import backend

    resolved = resolve_device(device)
    with backend.device_context(resolved):
        yield resolved


def describe_device(device: str = "auto", mixed_precision: bool = False) -> str:
    """One line naming the device training will use, for the CLI to print."""
    resolved = resolve_device(device)
    mixed = use_mixed_precision(device, mixed_precision)
    if resolved == "cpu":
        why = "requested" if device == "cpu" else f"no GPU visible to {_backend()}"
        note = ", mixed precision ignored" if mixed_precision else ""
        return f"CPU ({why}{note}){_backend_note()}"
    from forecast.models import backend

    gpus = visible_gpus()
    name, cc = backend.gpu_details()
    cc_text = f", compute {cc[0]}.{cc[1]}" if cc else ""
    more = f" (+{len(gpus) - 1} more, unused)" if len(gpus) > 1 else ""
    precision = "mixed float16" if mixed else "float32"
    return f"GPU 0: {name}{cc_text}{more}, {precision}{_backend_note()}"


def _backend() -> str:
    from forecast.models.backend import backend_name

    return {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}[backend_name()]


def _backend_note() -> str:
    """The backend, named only when it is not the default (keeps the usual line short)."""
    from forecast.models.backend import DEFAULT_BACKEND, backend_name

    return "" if backend_name() == DEFAULT_BACKEND else f", Keras on {_backend()}"
