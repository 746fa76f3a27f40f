"""`python -m edge_bench.cli` runs the edge-bench command."""

import sys

from edge_bench.cli import main

sys.exit(main())
