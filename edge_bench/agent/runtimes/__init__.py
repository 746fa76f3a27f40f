"""Runtimes behind one small interface (`base`), and a registry with a preference order per backend.

Adding a runtime is adding a module with a class decorated `@register` (and its name in `base.BUILTIN`).
"""

from .base import (
    RUNTIMES,
    Model,
    Runtime,
    RuntimeMissing,
    candidates,
    missing,
    open_runtime,
    register,
    scalar_type_name,
)

__all__ = ["RUNTIMES", "Model", "Runtime", "RuntimeMissing", "candidates", "missing", "open_runtime", "register",
           "scalar_type_name"]
