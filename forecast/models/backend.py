"""The one module that knows which Keras backend runs: TensorFlow (default), JAX or PyTorch.

Keras 3 fixes its backend when it is first imported, from `KERAS_BACKEND`. `select_backend`
sets that variable (the CLI's `--backend`) and refuses a switch after Keras is loaded.
Everything backend-specific lives here: the quiet import, the determinism switches, and
how GPUs are listed and described. Models and the CLI call these functions and never
import a backend package themselves. Nothing is imported until a function needs it, so
importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys

from forecast.errors import ConfigError

BACKENDS = ("tensorflow", "jax", "torch")
DEFAULT_BACKEND = "tensorflow"
# The pip extra that installs each backend's package (README: "Other Keras backends").
_PACKAGE = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def backend_name() -> str:
    """The backend Keras runs (or will run when first imported)."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    return os.environ.get("KERAS_BACKEND", DEFAULT_BACKEND) or DEFAULT_BACKEND


def check_backend(name: str) -> str:
    """Raise ConfigError unless `name` is a known backend whose package is installed."""
    if name not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {name!r}")
    if importlib.util.find_spec(_PACKAGE[name]) is None:
        raise ConfigError(f"the {name} backend is not installed: pip install 'fcast[{name}]'")
    return name


def select_backend(name: str | None) -> str:
    """Make `name` Keras's backend (None: keep `KERAS_BACKEND` or the default).

    Must run before Keras is imported; asking for another backend afterwards raises
    ConfigError instead of silently training on the loaded one.
    """
    wanted = check_backend(name or backend_name())
    if "keras" in sys.modules and sys.modules["keras"].backend.backend() != wanted:
        loaded = sys.modules["keras"].backend.backend()
        raise ConfigError(f"Keras is already running on {loaded}; start a new process for {wanted}")
    os.environ["KERAS_BACKEND"] = wanted
    if wanted == "jax":
        # Same seed, same numbers on a GPU too (XLA CPU is deterministic already).
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_gpu_deterministic_ops" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} --xla_gpu_deterministic_ops=true".strip()
    return wanted


@contextlib.contextmanager
def _native_stderr_silenced():
    """TensorFlow's native start-up messages (CUDA probing, oneDNN notices) go to file
    descriptor 2 before its logging is configured; hide them unless FCAST_TF_VERBOSE."""
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


def keras():
    """The `keras` module on the selected backend, imported quietly."""
    if "keras" in sys.modules:
        return sys.modules["keras"]
    name = select_backend(None)
    if name == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _native_stderr_silenced():
        import keras as _keras

        if name == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")  # the CUDA probe prints on first call
            # It would warn about retracing once per walk-forward fold.
            tf.get_logger().setLevel(logging.ERROR)
    return _keras


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the backend, and switch on the backend's determinism."""
    k = keras()
    name = k.backend.backend()
    if name == "tensorflow":
        k.utils.set_random_seed(int(seed))
    else:
        with _tensorflow_hidden():
            k.utils.set_random_seed(int(seed))
    if name == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif name == "torch":
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    # jax: XLA on CPU is deterministic; select_backend set the GPU flag.


@contextlib.contextmanager
def _tensorflow_hidden():
    """Keras seeds TensorFlow whenever it is importable, whatever the backend; on JAX or
    PyTorch that import costs seconds and prints TensorFlow's CUDA probe, for a generator
    nothing uses. Hidden, Keras finds it absent (and remembers that in this process)."""
    if "tensorflow" in sys.modules:
        yield
        return
    sys.modules["tensorflow"] = None  # makes `import tensorflow` raise ImportError
    try:
        yield
    finally:
        if sys.modules.get("tensorflow", 0) is None:
            del sys.modules["tensorflow"]


def visible_gpus() -> tuple[str, ...]:
    """Names of the GPUs the backend can use (empty on a CPU-only machine)."""
    name = keras().backend.backend()
    if name == "tensorflow":
        import tensorflow as tf

        return tuple(d.name for d in tf.config.list_physical_devices("GPU"))
    if name == "jax":
        import jax

        return tuple(str(d) for d in jax.devices() if d.platform == "gpu")
    import torch

    return tuple(f"cuda:{i}" for i in range(torch.cuda.device_count()))


def gpu_details() -> tuple[str, tuple[int, int] | None]:
    """Name and compute capability of GPU 0 (call only when `visible_gpus()` is not empty)."""
    name = keras().backend.backend()
    if name == "tensorflow":
        import tensorflow as tf

        gpu = tf.config.list_physical_devices("GPU")[0]
        details = tf.config.experimental.get_device_details(gpu)
        return details.get("device_name", gpu.name), details.get("compute_capability")
    if name == "jax":
        import jax

        gpu = next(d for d in jax.devices() if d.platform == "gpu")
        cc = getattr(gpu, "compute_capability", None)
        return gpu.device_kind, tuple(int(x) for x in str(cc).split(".")) if cc else None
    import torch

    return torch.cuda.get_device_name(0), tuple(torch.cuda.get_device_capability(0))


def jit_compile(resolved: str):
    """Keras's `jit_compile` for a model trained on `resolved` ("cpu" or "gpu").

    XLA made TensorFlow's CPU training of the small default networks slower here
    (bench/bench_models.py), so TensorFlow compiles with XLA on a GPU only; JAX always
    compiles, and Keras's "auto" picks the rest.
    """
    if backend_name() == "tensorflow" and resolved == "cpu":
        return False
    return "auto"


def steps_per_execution(wanted: int) -> int:
    """Training batches per compiled call: `wanted`, except on PyTorch, whose Keras
    trainer runs one batch per call (it refuses more)."""
    return 1 if backend_name() == "torch" else wanted


def device_context(resolved: str):
    """Keras's own device scope ("cpu" or "gpu"), the same call on every backend.

    PyTorch is the exception where it can be: Keras already puts its tensors on the GPU
    when torch sees one (else on the CPU), and building a Dropout layer inside
    `keras.device(...)` fails on that backend (Keras 3.15: its int seed variable is made
    a gradient-requiring Parameter), so the scope is entered only to force the CPU while
    a GPU is visible.
    """
    if backend_name() == "torch" and (resolved == "gpu" or not visible_gpus()):
        return contextlib.nullcontext()
    return keras().device("gpu:0" if resolved == "gpu" else "cpu:0")
