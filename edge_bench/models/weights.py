"""Reading checkpoints from disk: safetensors, torch .pt/.bin, Hugging Face folders.

Nothing here downloads: a checkpoint is a local file or folder, or the model
stays untrained.
"""

from __future__ import annotations

import json
from pathlib import Path

from edge_bench.errors import ModelError

_WRAPPERS = ("state_dict", "model", "model_state_dict")


def file_sha256(path: Path) -> str:
    """sha256 of a file, or of a folder's names, sizes and bytes: the agent's own definition
    (`edge_bench.agent.integrity.sha256_path`), so manifests and the device's checks agree."""
    from edge_bench.agent.integrity import sha256_path

    return sha256_path(Path(path))


def read_state_dict(path: Path) -> tuple[dict, dict]:
    """(tensors, metadata) of a checkpoint file; unwraps `state_dict` and `module.`."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as fh:
                meta = dict(fh.metadata() or {})
                state = {k: fh.get_tensor(k) for k in fh.keys()}
        elif suffix in (".pt", ".pth", ".bin", ".ckpt"):
            import torch

            state = torch.load(path, map_location="cpu", weights_only=True)
            meta = {}
        else:
            raise ModelError(f"unsupported checkpoint type {suffix!r}: {path}", hint="use .safetensors, .pt, .pth or .bin")
    except ModelError:
        raise
    except Exception as exc:  # corrupt or truncated files raise many kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"checkpoint does not load: {path} ({first[:200]})") from None
    for key in _WRAPPERS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not state:
        raise ModelError(f"checkpoint holds no tensors: {path}")
    if all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state, meta


def load_into(module, state: dict, path: Path, what: str) -> None:
    """Strictly load tensors into a module; a mismatch is a one-line ModelError."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} of another shape (e.g. {k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)})")
        raise ModelError(f"checkpoint {path.name} does not fit {what}: " + ", ".join(parts))
    module.load_state_dict({k: state[k].to(own[k].dtype) for k in own}, strict=True)


def json_meta(meta: dict, key: str) -> dict | None:
    """A JSON value from safetensors metadata, or None."""
    if key not in meta:
        return None
    try:
        return json.loads(meta[key])
    except json.JSONDecodeError:
        raise ModelError(f"checkpoint metadata {key!r} is not valid JSON") from None
