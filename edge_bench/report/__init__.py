"""Per-device reports and plots."""
