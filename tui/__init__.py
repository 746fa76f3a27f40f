"""The Textual terminal UI of edge-bench."""
