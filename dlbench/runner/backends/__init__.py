"""The framework backends, imported only when chosen (importing one imports its framework)."""

from __future__ import annotations

import importlib

from .base import Backend, DeviceRequest, UsageError, parse_device

# --framework value -> (module, class). A new framework is one module and one line here, and an optional-dependency
# group (pyproject.toml extra) of the same name that installs it.
BACKENDS: dict[str, tuple[str, str]] = {
    "torch": ("dlbench.runner.backends.torch", "TorchBackend"),
    "tensorflow": ("dlbench.runner.backends.tensorflow", "TensorFlowBackend"),
}


class FrameworkMissing(Exception):
    """The framework of the chosen backend is not installed."""


def load(framework: str) -> Backend:
    """An instance of the backend for `framework` (KeyError when unknown; FrameworkMissing when not installed)."""
    module_name, cls = BACKENDS[framework]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise FrameworkMissing(f"{framework} is not installed ({exc}): run `bash tools/setup.sh`, or "
                               f"`pip install -e '.[{framework}]'`") from exc
    return getattr(module, cls)()


__all__ = ["BACKENDS", "Backend", "DeviceRequest", "FrameworkMissing", "UsageError", "load", "parse_device"]
