"""The Textual terminal UI of edge-bench: devices, plan, live run, results, compare, export.

`edge-bench tui` starts `edge_bench.tui.app.EdgeBenchApp`; the app runs over
the same runner (`edge_bench.runner.Runner`), store and device profiles as the
CLI. Importing this package is cheap: Textual loads with `edge_bench.tui.app`.
"""
