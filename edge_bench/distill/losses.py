"""Losses: CLIP's symmetric InfoNCE, and CLIP-KD's feature and similarity distillation."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def clip_loss(image: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE over a batch of matching (image, text) unit embeddings."""
    logits = logit_scale.exp().clamp(max=100) * image @ text.t()
    target = torch.arange(len(image), device=image.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


def feature_distillation(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean squared distance between student and teacher unit embeddings (CLIP-KD's FD)."""
    return ((student - teacher) ** 2).sum(dim=-1).mean()


def similarity_distillation(
    s_image: torch.Tensor, s_text: torch.Tensor, t_image: torch.Tensor, t_text: torch.Tensor, temperature: float
) -> torch.Tensor:
    """KL from the teacher's to the student's image-text similarity distributions, both ways."""
    s_logits = s_image @ s_text.t() / temperature
    t_logits = t_image @ t_text.t() / temperature
    kl_rows = F.kl_div(F.log_softmax(s_logits, dim=1), F.log_softmax(t_logits, dim=1), log_target=True, reduction="batchmean")
    kl_cols = F.kl_div(F.log_softmax(s_logits.t(), dim=1), F.log_softmax(t_logits.t(), dim=1), log_target=True, reduction="batchmean")
    return 0.5 * (kl_rows + kl_cols)
