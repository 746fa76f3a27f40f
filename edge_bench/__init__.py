"""edge-bench: what does distilling a CLIP model buy you on the actual device?"""

__version__ = "0.1.0"
