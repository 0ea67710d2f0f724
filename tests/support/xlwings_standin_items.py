"""What the stand-in's Sheets, Tables and Charts share, as xlwings' own collections behave: iterate in
order, count, and index by position or by name in any case (KeyError for a name that is not there)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class NamedItems:
    def __init__(self) -> None:
        self._items: list[Any] = []

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._items))  # a copy: code may add or delete while it iterates

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, int):
            return self._items[key]
        for item in self._items:
            if item.name.casefold() == key.casefold():
                return item
        raise KeyError(key)
