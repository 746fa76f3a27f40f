"""Android phones over adb: native runners (LiteRT benchmark_model, ExecuTorch executor_runner) and their output."""
