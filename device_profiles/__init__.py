"""Device profiles shipped with edge-bench (one TOML file per device)."""
