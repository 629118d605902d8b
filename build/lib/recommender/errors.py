"""Recommender errors; ``str()`` is a friendly sentence fit to show an end user."""

from __future__ import annotations


class RecommenderError(Exception):
    """Base of every error the recommender raises on purpose."""


class InvalidCountError(RecommenderError, ValueError):
    """A playlist or "more like this" length outside 1..limit (or not an integer)."""

    def __init__(self, what: str, value: object, limit: int) -> None:
        self.what = what
        self.value = value
        self.limit = limit
        super().__init__(what, value, limit)

    def __str__(self) -> str:
        return f"A {self.what} can have from 1 to {self.limit} songs (you asked for {self.value!r})."
