"""Staged Polars pipeline that curates Alpaca-style instruction data."""

__version__ = "0.1.0"
