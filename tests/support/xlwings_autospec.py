"""xlwings objects for the tests that know xlwings' real API: autospecs of xlwings 0.37.8's own classes
(App, Apps, Book, Books, Sheet, Sheets, Range, Table, Tables, Chart, Charts, ChartSeries,
ChartSeriesCollection, Names, Name, Notes, Note, Comment, PivotTables, PivotTable) whose state lives in the stand-in
(support/xlwings_standin.py). `.api` hands over the stand-in's native object (Excel's object model) as is.

    book = standin.Book(...)             # the state: cells, tables, charts, calls made
    live_writer.write_tables_live(real_api(book), content)
    assert book.sheets["Workouts"]...    # assertions read the state

What a wrapper enforces, so that a call real xlwings would reject fails the test:
- attributes: only names xlwings' class has (`spec_set`); `range.last_row` or `chart.sourcedata` raise
  AttributeError, on reading and on writing;
- arguments: every method call is bound to the real method's signature (taken from the autospec)
  before it reaches the stand-in, so a wrong keyword or a missing argument raises TypeError;
- read-only properties: `create_autospec` alone makes a property a plain attribute that takes any
  write. Here each property of the real class becomes a property of the wrapper's class whose setter
  exists only where xlwings' property has one (`fset`); writing `range.shape = …` or `table.range = …`
  raises AttributeError ("… is read-only");
- results: whatever the stand-in returns is wrapped in turn (a Range as an autospec of xw.Range, and
  so on), and a collection iterates, indexes and answers `in` only where xlwings' class does.
A real member the stand-in does not model raises NotImplementedError naming it: extend the stand-in.

How they are made: `create_autospec(cls, instance=True, spec_set=True)` once per xlwings class (it takes
about 50 ms, and a refresh makes hundreds of Ranges); each wrapper is a new instance of the class that
autospec made, spec_set to the names of the same xlwings class and answering isinstance as that class
(the mock's `_spec_class`), with the properties, methods and container methods above set on that class.
The per-instance magic-method proxies of MagicMock are left out (0.1 ms a wrapper instead of 0.45): a
wrapper has the container methods xlwings' class has and Python's defaults for the rest.
`isinstance(wrapper, xw.Range)` holds, as for any spec'd mock.
Like xlwings, every access makes a new wrapper; equality follows xlwings' own `__eq__` where the class
defines one (Book, Sheet, Range, Table, Name), identity elsewhere (Chart).

Not checked here: argument VALUES xlwings' own code validates (a chart type, a colour) beyond what
the stand-in checks, and anything only Excel decides (docs/manual-test.md).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any
from unittest.mock import NonCallableMock, create_autospec

import xlwings.main as xw_main

from support import xlwings_standin as standin
from support import xlwings_standin_charts as standin_charts
from support import xlwings_standin_pivots as standin_pivots
from support import xlwings_standin_tables as standin_tables

XLWINGS_CLASS: dict[type, type] = {
    standin.Apps: xw_main.Apps,
    standin.App: xw_main.App,
    standin.Books: xw_main.Books,
    standin.Book: xw_main.Book,
    standin.Sheets: xw_main.Sheets,
    standin.Sheet: xw_main.Sheet,
    standin.Range: xw_main.Range,
    standin_tables.Tables: xw_main.Tables,
    standin_tables.Table: xw_main.Table,
    standin.Names: xw_main.Names,
    standin.Notes: xw_main.Notes,
    standin.Note: xw_main.Note,
    standin.Comment: xw_main.Comment,
    standin.Name: xw_main.Name,
    standin_charts.Charts: xw_main.Charts,
    standin_charts.Chart: xw_main.Chart,
    standin_charts.ChartSeriesCollection: xw_main.ChartSeriesCollection,
    standin_charts.ChartSeries: xw_main.ChartSeries,
    standin_pivots.PivotTables: xw_main.PivotTables,
    standin_pivots.PivotTable: xw_main.PivotTable,
}
_STATE = "_xlwings_autospec_state"  # on each wrapper's own class: the stand-in object behind it
_CONTAINER = ("__iter__", "__len__", "__getitem__", "__contains__", "__call__")
_PLAIN = (str, int, float, bool, type(None), tuple, list)


def real_api(state: Any) -> Any:
    """The object code under test gets for a stand-in object: an autospec of its xlwings class."""
    cls = next((XLWINGS_CLASS[k] for k in type(state).__mro__ if k in XLWINGS_CLASS), None)
    if cls is None:
        return state
    klass = _autospec_class(cls)
    # NonCallableMock's own __new__ and __init__, spec_set to the class's names, then the class itself as
    # what isinstance sees: the checks of spec_set=cls, without the magic-method proxies MagicMock would
    # set up per instance (ours are on the class) or a rescan of the class: 0.1 ms a wrapper, not 0.45.
    names = _names(cls)
    wrapper = NonCallableMock.__new__(klass, spec_set=names)
    NonCallableMock.__init__(wrapper, spec_set=names)
    wrapper.__dict__["_spec_class"] = cls
    setattr(type(wrapper), _STATE, state)
    return wrapper


def state_of(wrapper: Any) -> Any:
    """The stand-in object behind a wrapper (anything else is returned as it is)."""
    return type(wrapper).__dict__.get(_STATE, wrapper)


def _result(cls: type, name: str, value: Any) -> Any:
    if name == "api":
        return value  # Excel's own object (COM or appscript): xlwings hands it over unchecked, so do these tests
    if type(value) in XLWINGS_CLASS or any(k in XLWINGS_CLASS for k in type(value).__mro__):
        return real_api(value)
    if not isinstance(value, _PLAIN) and not hasattr(value, "isoformat"):
        raise NotImplementedError(f"the stand-in's {name} is its own state, not xlwings' {cls.__name__}.{name}")
    return value


@functools.cache
def _names(cls: type) -> list[str]:
    return dir(cls)


@functools.cache
def _class_models(standin: type, name: str) -> bool:
    return inspect.getattr_static(standin, name, None) is not None


def _target(self: Any, cls: type, name: str) -> Any:
    state = state_of(self)
    if not _class_models(type(state), name) and name not in getattr(state, "__dict__", {}):
        raise NotImplementedError(
            f"xlwings {cls.__name__}.{name} is not modelled by the stand-in "
            "(tests/support/xlwings_standin.py): add it there"
        )
    return state


def _property(cls: type, name: str, real: property) -> property:
    def get(self: Any) -> Any:
        state = _target(self, cls, name)
        try:
            return _result(cls, name, getattr(state, name))
        except AttributeError as exc:  # would fall through to the mock's __getattr__ and vanish
            raise RuntimeError(f"the stand-in's {cls.__name__}.{name} failed: {exc}") from exc

    def set_(self: Any, value: Any) -> None:
        if real.fset is None:
            raise AttributeError(f"xlwings {cls.__name__}.{name} is read-only")
        setattr(_target(self, cls, name), name, state_of(value))

    return property(get, set_)


def _method(cls: type, name: str, signature: inspect.Signature) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"xlwings {cls.__name__}.{name}{signature}: {exc}") from None
        state = _target(self, cls, name)
        result = getattr(state, name)(*map(state_of, args), **{k: state_of(v) for k, v in kwargs.items()})
        return _result(cls, name, result)

    method.__name__ = name
    return method


def _container(cls: type, name: str) -> Callable[..., Any]:
    def check(self: Any) -> Any:
        return _target(self, cls, name)

    if name == "__iter__":
        return lambda self: (real_api(item) for item in check(self))
    if name == "__len__":
        return lambda self: len(check(self))
    if name == "__getitem__":
        return lambda self, key: real_api(check(self)[state_of(key)])
    if name == "__contains__":
        return lambda self, item: state_of(item) in check(self)
    return lambda self, *args, **kwargs: real_api(check(self)(*args, **kwargs))


@functools.cache
def _autospec_class(cls: type) -> type:
    prototype = create_autospec(cls, instance=True, spec_set=True)
    klass = type(prototype)
    for name, value in list(vars(klass).items()):  # the prototype's magic proxies answer for it alone
        if type(value).__name__ == "MagicProxy":
            delattr(klass, name)
    for name, member in inspect.getmembers_static(cls):
        if isinstance(member, property):
            setattr(klass, name, _property(cls, name, member))
        elif name in _CONTAINER and any(name in vars(k) for k in cls.__mro__[:-1]):
            setattr(klass, name, _container(cls, name))
        elif (
            inspect.isfunction(member) and not name.startswith("_") and not inspect.iscoroutinefunction(member)
        ):  # async ones are xlwings Lite's
            setattr(klass, name, _method(cls, name, inspect.signature(getattr(prototype, name))))
    if xw_main_defines_eq(cls):
        klass.__eq__ = lambda self, other: state_of(self) == state_of(other) and state_of(other) is not other
        klass.__ne__ = lambda self, other: not klass.__eq__(self, other)
        klass.__hash__ = lambda self: id(self)

    def no_such_attribute(self: Any, name: str) -> Any:
        if name.startswith(("_mock_", "_spec_")):
            raise AttributeError(name)  # the mock's own bookkeeping, looked up before it exists
        known = hasattr(cls, name)
        raise AttributeError(
            f"xlwings {cls.__name__} has no attribute {name!r}"
            if not known
            else f"xlwings {cls.__name__}.{name} is not offered by these tests' wrapper"
        )

    klass.__getattr__ = no_such_attribute
    return klass


def xw_main_defines_eq(cls: type) -> bool:
    return any("__eq__" in vars(k) for k in cls.__mro__[:-1])
