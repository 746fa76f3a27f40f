"""Training settings, as typed data (every field is written to the training card)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class TrainConfig:
    """How a model is trained or distilled."""

    epochs: float = 10.0
    """Passes over the training images (fractions allowed)."""
    batch_size: int = 256
    """Image-caption pairs per step."""
    lr: float = 1e-3
    """Peak learning rate of AdamW (linear warm-up, cosine decay)."""
    weight_decay: float = 0.1
    """AdamW weight decay (not applied to norms, biases, embeddings)."""
    warmup_steps: int = 200
    """Steps of linear learning-rate warm-up."""
    seed: int = 0
    """Seed of initialisation, batch order and caption choice."""
    task_weight: float = 1.0
    """Weight of the contrastive (InfoNCE) task loss."""
    fd_weight: float = 0.0
    """Weight of feature distillation (student vs teacher embeddings); 0 without a teacher."""
    sd_weight: float = 0.0
    """Weight of similarity-matrix distillation (KL between similarity distributions)."""
    sd_temperature: float = 0.05
    """Temperature of the similarity distributions in similarity distillation."""
    hard_negatives: bool = True
    """Keep colour-swapped twin images in the same batch (synthetic set)."""
    train_images: int | None = None
    """Training images to use (None: the whole train split)."""
    val_images: int = 1000
    """Validation images evaluated after training (and per epoch with eval_every)."""
    eval_every: float = 0.0
    """Evaluate on the validation split every this many epochs (0: only at the end)."""
    bf16: bool = True
    """bfloat16 autocast on the CPU (about 2x faster here)."""
    threads: int | None = None
    """PyTorch threads (None: PyTorch's default)."""

    def as_dict(self) -> dict:
        """A JSON-ready copy."""
        return asdict(self)
