"""Devices: transports (local, ssh, adb) behind one interface, and device profiles."""
