"""Converters: one module per backend behind one protocol and a registry."""
