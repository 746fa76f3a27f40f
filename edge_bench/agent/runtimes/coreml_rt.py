"""Core ML through coremltools: macOS only (coremltools converts elsewhere but cannot predict).

The compute units come from the job's `runtime_options.compute_units`
('ALL', 'CPU_ONLY', 'CPU_AND_GPU', 'CPU_AND_NE'; default 'ALL'). Core ML
picks its own threads. `predict` takes and returns dicts keyed by the
feature names of the model's description.
"""

from __future__ import annotations

import numpy as np

from .base import Model, Runtime, RuntimeMissing, missing, register

_ARRAY_TYPES = {65568: "float32", 65600: "float64", 65552: "float16", 131104: "int32", 131080: "int8"}
"""coremltools ArrayFeatureType.ArrayDataType values to numpy dtype names."""


class _CoremlModel(Model):
    """An MLModel: predict(dict) -> dict."""

    def __init__(self, model) -> None:
        self._model = model
        description = model.get_spec().description
        self._input_names = [f.name for f in description.input]
        self._output_names = [f.name for f in description.output]
        self.input_specs = [
            (tuple(int(s) for s in f.type.multiArrayType.shape), _ARRAY_TYPES.get(f.type.multiArrayType.dataType, "?"))
            for f in description.input
        ]
        self._feed: dict = {}
        self._result: dict = {}

    def set_inputs(self, arrays: list[np.ndarray]) -> None:
        """Name the inputs for predict."""
        self._feed = dict(zip(self._input_names, arrays))

    def invoke(self) -> None:
        """One predict call (the timed region)."""
        self._result = self._model.predict(self._feed)

    def outputs(self) -> list[np.ndarray]:
        """The outputs in the model description's order."""
        return [np.asarray(self._result[n]) for n in self._output_names]


@register
class Coremltools(Runtime):
    """Core ML via coremltools' MLModel (macOS)."""

    name = "coremltools"
    backend = "coreml"
    module = "coremltools"
    distribution = "coremltools"
    needs_macos = True
    sets_threads = False
    timed_region = "MLModel.predict() (includes coremltools' input and output conversion)"

    def __init__(self, threads: int, options: dict) -> None:
        super().__init__(threads, options)
        try:
            import coremltools as ct
        except Exception as exc:
            raise missing(self.module, exc) from None
        units = str(options.get("compute_units", "ALL")).upper()
        if units not in ct.ComputeUnit.__members__:
            raise RuntimeMissing(f"compute_units {units!r} unknown (one of {', '.join(ct.ComputeUnit.__members__)})")
        self._ct, self._units = ct, ct.ComputeUnit[units]

    def load(self, path: str) -> Model:
        """Load (and compile) the .mlpackage for the chosen compute units."""
        return _CoremlModel(self._ct.models.MLModel(str(path), compute_units=self._units))

    def describe(self) -> dict:
        """The runtime block, plus the compute units."""
        return {**super().describe(), "compute_units": self._units.name}
