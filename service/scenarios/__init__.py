"""Shipped simulation scenarios (TOML): ``commune.toml`` and ``province.toml`` (see service/simulation)."""
