"""TFLite / LiteRT: `ai_edge_litert` first, `tflite_runtime` where that is all a device has.

Both expose the same Interpreter; threads are set when it is created. Note
that tflite-runtime 2.14 does not work with numpy 2.
"""

from __future__ import annotations

import importlib

import numpy as np

from .base import Model, Runtime, missing, register


class _InterpreterModel(Model):
    """An allocated Interpreter: set_tensor() / invoke() / get_tensor()."""

    def __init__(self, interpreter) -> None:
        self._interpreter = interpreter
        self._inputs = [d["index"] for d in interpreter.get_input_details()]
        self._outputs = [d["index"] for d in interpreter.get_output_details()]
        self.input_specs = [
            (tuple(int(s) for s in d["shape"]), np.dtype(d["dtype"]).name) for d in interpreter.get_input_details()
        ]
        self.invoke = interpreter.invoke

    def set_inputs(self, arrays: list[np.ndarray]) -> None:
        """Copy the inputs into the interpreter's input tensors."""
        for index, array in zip(self._inputs, arrays):
            self._interpreter.set_tensor(index, array)

    def outputs(self) -> list[np.ndarray]:
        """Copies of the output tensors."""
        return [self._interpreter.get_tensor(i) for i in self._outputs]


class _LiteRtBase(Runtime):
    backend = "tflite"
    timed_region = "interpreter.invoke() (set_tensor before, get_tensor after)"

    def __init__(self, threads: int, options: dict) -> None:
        super().__init__(threads, options)
        try:
            self._interpreter_cls = importlib.import_module(self.module).Interpreter
        except Exception as exc:  # ImportError, or numpy ABI breakage (tflite-runtime on numpy 2)
            raise missing(self.module, exc) from None

    def load(self, path: str) -> Model:
        """Create the interpreter with the thread count, and allocate its tensors."""
        interpreter = self._interpreter_cls(model_path=str(path), num_threads=int(self.threads))
        interpreter.allocate_tensors()
        return _InterpreterModel(interpreter)

    def profile(self, path: str, inputs: list[np.ndarray], runs: int, out_dir) -> dict:
        """Placement from the interpreter once its delegate is applied (the Python API has no op profiler:
        per-operator times come from a native benchmark_model, see edge_bench.profile.benchmark_model)."""
        from ..placement import placement

        interpreter = self._interpreter_cls(model_path=str(path), num_threads=int(self.threads))
        interpreter.allocate_tensors()
        details = getattr(interpreter, "_get_ops_details", None)
        if details is None:
            return {"status": "unsupported", "reason": f"{self.name} {self.version()} does not list its nodes"}
        names = {int(t["index"]): str(t.get("name") or "") for t in interpreter.get_tensor_details()}
        return {"status": "ok", "source": "placement", "runs": 0, "placement": placement(details(), names)}


@register
class AiEdgeLitert(_LiteRtBase):
    """Google's LiteRT package (`pip install ai-edge-litert`)."""

    name = "ai-edge-litert"
    module = "ai_edge_litert.interpreter"
    distribution = "ai-edge-litert"
    priority = 0


@register
class TfliteRuntime(_LiteRtBase):
    """The older standalone TFLite interpreter (`pip install tflite-runtime`)."""

    name = "tflite-runtime"
    module = "tflite_runtime.interpreter"
    distribution = "tflite-runtime"
    priority = 1
