"""Distillation: contrastive training of a teacher and CLIP-KD distillation of students."""
