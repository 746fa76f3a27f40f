"""The built-in EdgeCLIP zoo: small CLIP models for the synthetic set.

Architectures and entries are data (`configs/edgeclip.json`); trained weights
ship as fp16 safetensors in `edge_bench/weights/` when `edge-bench distill`
has made them. EdgeCLIP checkpoints describe themselves (architecture and
vocabulary in the metadata), so a user's distilled model loads under any
EdgeCLIP entry name.
"""

from __future__ import annotations

import json
from dataclasses import fields
from importlib import resources
from pathlib import Path

from edge_bench.errors import ModelError
from edge_bench.models.base import ClipModel, ModelSpec, Preprocess, WeightsInfo
from edge_bench.models.edgeclip import EdgeClipConfig, build_towers
from edge_bench.models.registry import register_model
from edge_bench.models.tokenizers import WordTokenizer, tokenizer_from_config

FAMILY = "edgeclip"
MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)


def _configs() -> dict:
    return json.loads(resources.files("edge_bench.models").joinpath("configs/edgeclip.json").read_text())


def default_tokenizer() -> WordTokenizer:
    """The synthetic set's vocabulary, 24 tokens per caption (the longest caption takes 22)."""
    from edge_bench.data.synthetic import vocabulary

    return WordTokenizer(vocabulary(), context_length=24)


def architecture(arch: str, tokenizer: WordTokenizer | None = None) -> EdgeClipConfig:
    """The config of a named architecture, sized to a tokenizer's vocabulary."""
    archs = _configs()["architectures"]
    if arch not in archs:
        raise ModelError(f"unknown EdgeCLIP architecture {arch!r}", hint=f"one of {', '.join(archs)}")
    tokenizer = tokenizer or default_tokenizer()
    return EdgeClipConfig(**archs[arch], vocab_size=tokenizer.vocab_size, context_length=tokenizer.context_length)


def assemble(cfg: EdgeClipConfig, tokenizer, name: str, seed: int = 0) -> ClipModel:
    """A fresh (random) EdgeCLIP model of a config."""
    image, text = build_towers(cfg, seed=seed)
    image.config = text.config = cfg
    return ClipModel(
        name=name,
        family=FAMILY,
        image_encoder=image,
        text_encoder=text,
        tokenizer=tokenizer,
        preprocess=Preprocess(size=cfg.image_size, mean=MEAN, std=STD, interpolation="bicubic"),
        embed_dim=cfg.embed_dim,
    )


def save_checkpoint(model: ClipModel, path: Path, card: dict | None = None, half: bool = True) -> Path:
    """Write an EdgeCLIP model as safetensors with its config, vocabulary and card."""
    import torch
    from safetensors.torch import save_file

    dtype = torch.float16 if half else torch.float32
    tensors = {f"image.{k}": v.detach().to(dtype).contiguous() for k, v in model.image_encoder.state_dict().items()}
    tensors.update({f"text.{k}": v.detach().to(dtype).contiguous() for k, v in model.text_encoder.state_dict().items()})
    meta = {
        "format": "edgeclip-v1",
        "config": json.dumps(model.image_encoder.config.as_dict()),
        "tokenizer": json.dumps(model.tokenizer.config()),
        "card": json.dumps(card or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=meta)
    return path


def load_checkpoint(path: Path, name: str) -> ClipModel:
    """An EdgeCLIP model from a checkpoint written by `save_checkpoint`."""
    from edge_bench.models.weights import file_sha256, json_meta, load_into, read_state_dict

    if path.is_dir():
        raise ModelError(f"{path} is a folder; EdgeCLIP weights are one .safetensors file")
    state, meta = read_state_dict(path)
    cfg_dict = json_meta(meta, "config")
    tok_dict = json_meta(meta, "tokenizer")
    if cfg_dict is None or tok_dict is None:
        raise ModelError(f"{path.name} is not an EdgeCLIP checkpoint (no config in its metadata)")
    known = {f.name for f in fields(EdgeClipConfig)}
    cfg = EdgeClipConfig(**{k: v for k, v in cfg_dict.items() if k in known})
    model = assemble(cfg, tokenizer_from_config(tok_dict), name)
    load_into(model.image_encoder, _strip(state, "image."), path, f"{name}'s image tower")
    load_into(model.text_encoder, _strip(state, "text."), path, f"{name}'s text tower")
    model.weights = WeightsInfo("trained", str(path), file_sha256(path))
    model.card = json_meta(meta, "card") or {}
    return model


def _strip(state: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def builtin_weights_path(filename: str) -> Path | None:
    """The packaged weights file of an entry, if it has been shipped."""
    path = Path(str(resources.files("edge_bench.weights").joinpath(filename)))
    return path if path.is_file() else None


def _builder(name: str, arch: str):
    def build(weights: Path | str | None) -> ClipModel:
        if weights is None:
            weights = builtin_weights_path(f"{name}.safetensors")
        if weights is not None and weights != "untrained":  # registry.UNTRAINED: skip the shipped weights
            return load_checkpoint(weights, name)
        tokenizer = default_tokenizer()
        return assemble(architecture(arch, tokenizer), tokenizer, name)

    return build


def _register() -> None:
    cfg = _configs()
    for name, entry in cfg["entries"].items():
        arch = cfg["architectures"][entry["arch"]]
        register_model(
            ModelSpec(
                name=name,
                family=FAMILY,
                builder=_builder(name, entry["arch"]),
                description=entry["description"],
                image_size=64,
                embed_dim=arch["embed_dim"],
                builtin_weights=f"{name}.safetensors",
                context_length=24,
            )
        )


_register()
