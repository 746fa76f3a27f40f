"""ExecuTorch: the official pybindings where installed, else the torch-free numpy runtime.

`executorch-pybind` drives `executorch.extension.pybindings._C`, the extension
that `executorch.runtime` and `portable_lib` wrap. It is imported directly
because `portable_lib` first imports `executorch.exir` (the exporter): ~20 s
and ~140 MB of RSS a runtime never uses, which would inflate the agent's
memory figures. The pybindings link libtorch and take and return torch
tensors, so torch is imported here, as ExecuTorch's own dependency; this is
the host path. On devices the `executorch-numpy-runtime` package (Python >=
3.12, numpy only) runs the same .pte files without torch.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from .base import Model, Runtime, missing, register, scalar_type_name


def _method_name(names: list[str]) -> str:
    return "forward" if "forward" in names else names[0]


class _PybindModel(Model):
    """A loaded program's method: set_inputs() / execute() / get_outputs()."""

    def __init__(self, torch, program, method) -> None:
        self._torch = torch
        self._program = program  # keeps the program alive as long as the method
        self._method = method
        meta = method.method_meta()
        self.input_specs = [
            (tuple(meta.input_tensor_meta(i).sizes()), scalar_type_name(meta.input_tensor_meta(i).dtype()))
            for i in range(meta.num_inputs())
        ]
        self.invoke = method.execute
        self._arrays: list | None = None
        self._tensors: list = []

    def set_inputs(self, arrays: list[np.ndarray]) -> None:
        """Copy inputs into the method's planned buffers (every run: execution may reuse them)."""
        if arrays is not self._arrays:
            self._tensors = [self._torch.from_numpy(a) for a in arrays]
            self._arrays = arrays
        self._method.set_inputs(self._tensors)

    def outputs(self) -> list[np.ndarray]:
        """Cloned outputs of the last execute, as numpy arrays."""
        return [t.numpy() for t in self._method.get_outputs()]


@register
class ExecutorchPybind(Runtime):
    """ExecuTorch's own pybindings (installed with `pip install executorch`)."""

    name = "executorch-pybind"
    backend = "executorch"
    module = "executorch.extension.pybindings._C"
    distribution = "executorch"
    priority = 0
    timed_region = "method.execute() (inputs copied in before, outputs read after)"

    def __init__(self, threads: int, options: dict) -> None:
        super().__init__(threads, options)
        if importlib.util.find_spec("executorch") is None:  # before torch: a device may have torch alone
            raise missing(self.module, ModuleNotFoundError("No module named 'executorch'"))
        try:
            import torch  # the pybindings' tensor type (ExecuTorch's dependency)
            from executorch.extension.pybindings import _C
        except Exception as exc:  # ImportError, or a broken native library
            raise missing(self.module, exc) from None
        self._torch, self._C = torch, _C
        # Must happen before the first program is loaded: resizing afterwards crashes.
        _C._unsafe_reset_threadpool(int(threads))

    def threads_applied(self) -> int | None:
        """The thread pool's size as ExecuTorch reports it."""
        return int(self._C._threadpool_get_thread_count())

    def load(self, path: str) -> Model:
        """Load the program and its method (forward, else the first)."""
        C = self._C
        program = C._load_program(str(path), program_verification=C.Verification.InternalConsistency)
        names = [program.get_method_name(i) for i in range(program.num_methods())]
        return _PybindModel(self._torch, program, program.load_method(_method_name(names)))

    def profile(self, path: str, inputs: list[np.ndarray], runs: int, out_dir) -> dict:
        """ETDump of `runs` inferences of a fresh load with the event tracer on (operators and XNNPACK kernels)."""
        import os

        C = self._C
        program = C._load_program(str(path), enable_etdump=True, program_verification=C.Verification.InternalConsistency)
        names = [program.get_method_name(i) for i in range(program.num_methods())]
        model = _PybindModel(self._torch, program, program.load_method(_method_name(names)))
        for _ in range(max(1, runs)):
            model.set_inputs(inputs)
            model.invoke()
        name = "profile.etdp"
        program.write_etdump_result_to_file(os.path.join(str(out_dir), name), None)
        return {"status": "ok", "source": "etdump", "runs": max(1, runs), "file": name}


class _NumpyModel(Model):
    """A method of executorch-numpy-runtime: one call copies inputs in and outputs out."""

    def __init__(self, program, method) -> None:
        self._program = program
        self._method = method
        meta = method.metadata
        self.input_specs = [(tuple(i["shape"]), scalar_type_name(i["scalar_type"])) for i in meta["inputs"]]
        self._inputs: list[np.ndarray] = []
        self._outputs: list[np.ndarray] = []

    def set_inputs(self, arrays: list[np.ndarray]) -> None:
        """Keep the (contiguous) inputs for the next call."""
        self._inputs = arrays

    def invoke(self) -> None:
        """Run the method (the timed region)."""
        self._outputs = self._method(self._inputs)

    def outputs(self) -> list[np.ndarray]:
        """The last call's outputs (fresh copies, per the package's contract)."""
        return list(self._outputs)


@register
class ExecutorchNumpy(Runtime):
    """executorch-numpy-runtime: torch-free, numpy only (Python >= 3.12)."""

    name = "executorch-numpy"
    backend = "executorch"
    module = "executorch_numpy_runtime"
    distribution = "executorch-numpy-runtime"
    priority = 1
    sets_threads = False  # no thread-count API: XNNPACK's pool takes the performance cores
    timed_region = "Method.__call__ (copies inputs in, executes, copies outputs out)"

    def __init__(self, threads: int, options: dict) -> None:
        super().__init__(threads, options)
        try:
            import executorch_numpy_runtime as en
        except Exception as exc:
            raise missing(self.module, exc) from None
        self._en = en

    def load(self, path: str) -> Model:
        """Load the program and its method (forward, else the first)."""
        program = self._en.Runtime.get().load_program(str(path))
        return _NumpyModel(program, program.load_method(_method_name(list(program.method_names))))

    def profile(self, path: str, inputs: list[np.ndarray], runs: int, out_dir) -> dict:
        """Not supported: the package's Runtime.load_program takes no event tracer and its library has no ETDump."""
        return {"status": "unsupported", "reason": f"executorch-numpy-runtime {self.version()} cannot write an ETDump "
                                                   "(its load_program has no event tracer): profile with the ExecuTorch pybindings"}

    def describe(self) -> dict:
        """The runtime block, plus the ExecuTorch version the package was built from."""
        return {**super().describe(), "executorch_version": str(getattr(self._en, "__et_version__", "unknown"))}
