"""Tokenizers: a word-level one for EdgeCLIP, and open_clip's BPE for the rest.

Both return int32 ids of a fixed context length; the end-of-text id is the
largest id, so CLIP-style argmax pooling and EdgeCLIP's one-hot pooling agree.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

PAD, SOT, UNK = "<pad>", "<start>", "<unk>"
EOT = "<end>"
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-case alphanumeric words of a caption."""
    return _WORD.findall(text.lower())


class WordTokenizer:
    """Whole words from a fixed vocabulary; ids: pad 0, start 1, unknown 2, end last."""

    name = "word"

    def __init__(self, vocab: Sequence[str], context_length: int = 32) -> None:
        self.vocab = [PAD, SOT, UNK, *[w for w in vocab if w not in (PAD, SOT, UNK, EOT)], EOT]
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.context_length = context_length

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @classmethod
    def from_corpus(cls, texts: Iterable[str], max_words: int = 4096, context_length: int = 32) -> "WordTokenizer":
        """A vocabulary of the most frequent words of a corpus (ties alphabetical)."""
        counts = Counter(w for t in texts for w in words(t))
        ranked = sorted(counts, key=lambda w: (-counts[w], w))[: max_words - 4]
        return cls(sorted(ranked), context_length)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.context_length), dtype=np.int32)
        unk, eot = self.index[UNK], self.index[EOT]
        for row, text in enumerate(texts):
            ids = [self.index.get(w, unk) for w in words(text)][: self.context_length - 2]
            ids = [self.index[SOT], *ids, eot]
            out[row, : len(ids)] = ids
        return out

    def config(self) -> dict:
        """What rebuilds this tokenizer (stored with the weights)."""
        return {"kind": "word", "vocab": self.vocab[3:-1], "context_length": self.context_length}


class OpenClipTokenizer:
    """open_clip's bundled BPE tokenizer (OpenAI CLIP's vocabulary), as int32."""

    name = "openai-bpe"

    def __init__(self, model_name: str) -> None:
        import open_clip

        self._tok = open_clip.get_tokenizer(model_name)
        self.context_length = int(getattr(self._tok, "context_length", 77))

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return self._tok(list(texts)).numpy().astype(np.int32)

    def config(self) -> dict:
        return {"kind": "openai-bpe", "context_length": self.context_length}


def tokenizer_from_config(cfg: dict):
    """Rebuild a tokenizer from `config()` output."""
    if cfg.get("kind") == "word":
        return WordTokenizer(cfg["vocab"], int(cfg["context_length"]))
    if cfg.get("kind") == "openai-bpe":
        return OpenClipTokenizer("ViT-B-32")
    raise ValueError(f"unknown tokenizer kind {cfg.get('kind')!r}")
