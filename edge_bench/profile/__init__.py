"""Per-operator profiles of a tower: ETDump / Inspector reading (ExecuTorch), LiteRT placement and
benchmark_model op-profiling output, the roll-up by block of the student, and their tables.

`model` is a standard-library leaf (the typed record imports it); everything heavy loads lazily.
"""
