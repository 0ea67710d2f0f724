"""How counts read in what a member sees: "1 workout", "3 workouts"."""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """`count` and `noun`, the noun in the plural (an added s) unless the count is 1."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
