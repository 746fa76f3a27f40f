"""The test split's inputs: a .npy file read batch by batch, images normalised here.

The file is checked against its header before anything runs (dtype, rank,
and a size that covers every declared item, so a truncated push fails in
"verify"). Batches are read with plain file reads, never the whole array and
never a memory map, so peak RSS measures the runtime and model, not the split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import AgentError

_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
_EXPECTED = {"uint8_images": (np.dtype(np.uint8), 4), "int32_tokens": (np.dtype(np.int32), 2)}


@dataclass
class InputsFile:
    """An opened, checked inputs file."""

    path: Path
    kind: str
    shape: tuple[int, ...]
    dtype: np.dtype
    offset: int
    """Byte offset of the first item (after the .npy header)."""
    mean: np.ndarray
    std: np.ndarray

    @property
    def n(self) -> int:
        """Number of items (images or captions)."""
        return self.shape[0]

    @property
    def item_shape(self) -> tuple[int, ...]:
        return self.shape[1:]

    @property
    def _row_bytes(self) -> int:
        return int(np.prod(self.item_shape, dtype=np.int64)) * self.dtype.itemsize

    def raw(self, start: int, count: int) -> np.ndarray:
        """Items [start, start+count) as stored (uint8 or int32)."""
        with open(self.path, "rb") as f:
            f.seek(self.offset + start * self._row_bytes)
            data = f.read(count * self._row_bytes)
        if len(data) != count * self._row_bytes:
            raise AgentError("encode", f"inputs {self.path}: short read at item {start} (file changed?)")
        return np.frombuffer(data, dtype=self.dtype).reshape((count, *self.item_shape))

    def batch(self, start: int, batch: int) -> np.ndarray:
        """A model-ready batch of exactly `batch` items from `start`; past the end, the last item repeats."""
        count = min(batch, self.n - start)
        data = self.prepare(self.raw(start, count))
        if count < batch:
            pad = np.repeat(data[-1:], batch - count, axis=0)
            data = np.concatenate([data, pad], axis=0)
        return np.ascontiguousarray(data)

    def prepare(self, raw: np.ndarray) -> np.ndarray:
        """Stored items to model inputs: images (x/255 - mean)/std as float32; tokens as int32."""
        if self.kind != "uint8_images":
            return raw.astype(np.int32, copy=True)
        return ((raw.astype(np.float32) / 255.0) - self.mean) / self.std


def open_inputs(path: Path, kind: str, mean, std) -> InputsFile:
    """Read and check the header of an inputs file; a truncated or mistyped file is an AgentError."""
    if not path.is_file():
        raise AgentError("verify", f"inputs not found: {path}")
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            reader = _HEADER_READERS.get(version)
            if reader is None:
                raise ValueError(f".npy format version {version} not supported")
            shape, fortran, dtype = reader(f)
            offset = f.tell()
    except (ValueError, OSError) as exc:
        raise AgentError("verify", f"inputs {path}: not a readable .npy file ({exc})") from None
    want_dtype, want_ndim = _EXPECTED[kind]
    if dtype != want_dtype or len(shape) != want_ndim or fortran:
        raise AgentError(
            "verify",
            f"inputs {path}: {kind} needs a C-order {want_ndim}-d {want_dtype} array, file holds {dtype} {shape}",
        )
    if kind == "uint8_images" and shape[1] != 3:
        raise AgentError("verify", f"inputs {path}: images must be (N, 3, S, S), file holds {shape}")
    if shape[0] == 0:
        raise AgentError("verify", f"inputs {path}: no items")
    need = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    have = path.stat().st_size
    if have < need:
        raise AgentError("verify", f"inputs {path}: truncated: header declares {shape} ({need} bytes), file has {have}")
    stats = [np.asarray(v, dtype=np.float32).reshape(1, 3, 1, 1) for v in (mean, std)]
    return InputsFile(path, kind, tuple(shape), dtype, offset, *stats)
