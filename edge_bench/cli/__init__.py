"""The `edge-bench` command: thin, over the same library as the TUI.

Each command group lives in its own module and registers itself on `app`;
`main` turns an EdgeBenchError into one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import importlib
import sys

import typer

from edge_bench.errors import EdgeBenchError

app = typer.Typer(
    name="edge-bench",
    help="What does distilling a CLIP model buy you on the actual device? "
    "Convert CLIP students to ExecuTorch, Core ML and TFLite, benchmark them on a "
    "phone, a Raspberry Pi or this machine, and compare speed, memory and recall.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

# One module per command group; each adds its commands to `app` on import.
COMMAND_MODULES = [
    "edge_bench.cli.models_cmd",
    "edge_bench.cli.eval_cmd",
    "edge_bench.cli.convert_cmd",
    "edge_bench.cli.devices_cmd",
    "edge_bench.cli.android_cmd",
    "edge_bench.cli.distill_cmd",
    "edge_bench.cli.run_cmd",
    "edge_bench.cli.store_cmd",
    "edge_bench.cli.report_cmd",
    "edge_bench.cli.tui_cmd",
]


def _load_commands() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name)


def _quiet_toolchains() -> None:
    """Keep converters' and runtimes' log chatter (TF/absl C++ logs, deprecations) off the terminal."""
    import os
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TQDM_DISABLE", "1")
    for category in (FutureWarning, DeprecationWarning, UserWarning):
        warnings.filterwarnings("ignore", category=category)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    _quiet_toolchains()
    _load_commands()
    try:
        app(args=argv, standalone_mode=False)
    except EdgeBenchError as exc:
        print(f"edge-bench: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("edge-bench: interrupted", file=sys.stderr)
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except Exception as exc:  # click's usage errors and aborts
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            print("edge-bench: aborted", file=sys.stderr)
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
