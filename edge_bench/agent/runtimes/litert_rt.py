"""TFLite / LiteRT: `ai_edge_litert` first, `tflite_runtime` where that is all a device has.

Both expose the same Interpreter; threads are set when it is created. Note
that tflite-runtime 2.14 does not work with numpy 2.
"""

from __future__ import annotations

import importlib
from pathlib import Path

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
        """Placement from the interpreter once its delegate is applied, and per-operator times from LiteRT's
        C profiler (`litert_profiler`, run as a child process: a library it cannot drive costs only the times)."""
        from ..placement import placement

        interpreter = self._interpreter_cls(model_path=str(path), num_threads=int(self.threads))
        interpreter.allocate_tensors()
        details = getattr(interpreter, "_get_ops_details", None)
        if details is None:
            return {"status": "unsupported", "reason": f"{self.name} {self.version()} does not list its nodes"}
        names = {int(t["index"]): str(t.get("name") or "") for t in interpreter.get_tensor_details()}
        block = {"status": "ok", "source": "placement", "runs": 0, "placement": placement(details(), names)}
        del interpreter
        if self.name != "ai-edge-litert":
            return {**block, "op_times": f"{self.name} has no per-operator profiler (ai-edge-litert's libLiteRt has)"}
        name, why = _op_times(path, inputs, runs, self.threads, Path(out_dir))
        if name is None:
            return {**block, "op_times": why}
        return {**block, "source": "litert-profiler", "runs": runs, "file": name}


OP_TIMES_FILE = "litert-ops.json"


def _op_times(path: str, inputs: list[np.ndarray], runs: int, threads: int, out_dir: Path) -> tuple[str | None, str]:
    """Run `litert_profiler.py` in a child process: (the events file's name, '') or (None, why there are no op times)."""
    import subprocess
    import sys

    from .. import litert_profiler

    staged = out_dir / "litert-profile-input.npy"
    np.save(staged, inputs[0])
    argv = [sys.executable, litert_profiler.__file__, str(path), str(staged), str(out_dir / OP_TIMES_FILE),
            "--runs", str(max(1, runs)), "--threads", str(int(threads))]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300 + 10 * runs)
    except subprocess.TimeoutExpired:
        return None, "no per-operator times: the LiteRT profiler did not finish in time"
    finally:
        staged.unlink(missing_ok=True)
    if done.returncode != 0:
        said = [line for line in done.stderr.splitlines() if line.startswith("litert-profiler:")]
        why = said[-1].split(":", 1)[1].strip() if said else (
            f"killed by signal {-done.returncode}" if done.returncode < 0 else f"exit status {done.returncode}")
        return None, f"no per-operator times: the LiteRT profiler failed ({why})"
    return OP_TIMES_FILE, ""


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
