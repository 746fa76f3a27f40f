"""The on-device agent: standard library, numpy and one runtime; never torch."""
