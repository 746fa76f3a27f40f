"""Trained weights of the built-in EdgeCLIP zoo (fp16 safetensors), made by `edge-bench distill`."""
