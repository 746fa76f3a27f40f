"""Argument checks shared by the bench scripts (run as `python bench/NAME.py`, so this folder is on sys.path):
bad input ends in one line, before anything is converted or timed."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable


def positive(text: str) -> int:
    """A whole number of at least 1, or a one-line argparse error."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def check_axes(models: Iterable[str], backends: Iterable[str], precisions: Iterable[str]) -> None:
    """Every model, backend and precision asked for exists (an EdgeBenchError names the first that does not)."""
    from edge_bench.converters import get_converter
    from edge_bench.converters.base import check_precision
    from edge_bench.models.registry import get_spec

    for name in models:
        get_spec(name)
    for backend in backends:
        get_converter(backend)
    for precision in precisions:
        check_precision(precision)


def run(parser: argparse.ArgumentParser, body: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """`body(args)`, with an EdgeBenchError (an unknown model, backend, precision...) as one line and exit status 2."""
    from edge_bench.errors import EdgeBenchError

    try:
        return body(args)
    except EdgeBenchError as exc:
        parser.exit(2, f"{parser.prog}: error: {exc.one_line()}\n")
