"""`python3 -m edge_bench_agent JOB.json` (on the device) or `python -m edge_bench.agent JOB.json` (here)."""

import sys

from .main import main

sys.exit(main())
