"""Benchmarks: how fast and how big genrebot is, each runnable as ``python -m benchmarks.NAME`` and
writing its figures as JSON (``benchmarks/results``) from which the docs' measurement pages are built.
The product never imports this package."""
