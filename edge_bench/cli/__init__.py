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
    "edge_bench.cli.lab_cmd",
    "edge_bench.cli.profile_cmd",
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


def _click_classes() -> tuple[tuple, tuple, tuple]:
    """(Exit, Abort, ClickException) classes of both typer's vendored click and click itself."""
    import click

    exits, aborts, errors = [typer.Exit, click.exceptions.Exit], [typer.Abort, click.exceptions.Abort], [click.ClickException]
    try:
        from typer._click import exceptions as vendored
    except ImportError:  # a typer that uses click itself
        pass
    else:
        errors.append(vendored.ClickException)
    return tuple(exits), tuple(aborts), tuple(errors)


def _forget_nested_interrupt() -> None:
    """Make `python -m edge_bench.cli` exit with 130 after a Ctrl-C we handled, not die by SIGINT.

    CPython remembers a KeyboardInterrupt that escaped code run through
    `PyRun_String` (pybind11's `py::exec`/`py::eval`, used inside the
    toolchains) and, under `python -m`, re-kills itself with SIGINT at exit
    even though the CLI caught the interrupt (seen in CI: status -2, not 130).
    Running one trivial string resets that flag; a normal exit status follows.
    """
    try:
        import ctypes

        ctypes.pythonapi.PyRun_SimpleString(b"pass")
    except Exception:  # no C API to reach (another Python): the status may be -2, as before
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status (edge_bench.errors.EXIT_*)."""
    from edge_bench.errors import EXIT_FAILED, EXIT_INTERRUPTED

    _quiet_toolchains()
    _load_commands()
    exits, aborts, click_errors = _click_classes()
    try:
        # standalone_mode=False: a command's `typer.Exit(code)` comes back as the result, Ctrl-C as 130
        result = app(args=argv, standalone_mode=False)
    except EdgeBenchError as exc:
        for line in exc.lines():
            print(line if line.startswith(" ") else f"edge-bench: error: {line}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        result = EXIT_INTERRUPTED
    except exits as exc:
        result = exc.exit_code
    except aborts as exc:
        if not isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            print("edge-bench: aborted", file=sys.stderr)
            return EXIT_FAILED
        result = EXIT_INTERRUPTED
    except click_errors as exc:  # usage errors: exit status 2
        exc.show()
        return exc.exit_code
    if result == EXIT_INTERRUPTED:
        print("edge-bench: interrupted", file=sys.stderr)
        _forget_nested_interrupt()
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
