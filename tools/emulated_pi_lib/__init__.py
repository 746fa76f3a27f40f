"""The parts of `tools/emulated-pi`: layout, host checks, mounts, processes, build, device."""
