"""The decorators that make a function a tarn model or expectation.

They only attach metadata and return the function unchanged, so a model stays an ordinary function that a unit test
can call with pyarrow Tables. tarn plans a project by reading these decorators from source, never by importing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

MATERIALIZATIONS = ("NONE", "REPLACE", "APPEND", "OVERWRITE_PARTITIONS")
ATTRIBUTE = "__tarn__"


@dataclass(frozen=True)
class Spec:
    """What the decorators of one function declare.

    Example::

        spec = tarn.spec_of(zone_stats)
        spec.kind, spec.materialize  # ('model', 'REPLACE')
    """

    kind: str = ""
    materialize: str = "NONE"
    partitioned_by: tuple[str, ...] = ()
    overwrite_filter: str | None = None
    tags: tuple[str, ...] = ()
    namespace: str | None = None
    memory: str | None = None
    timeout: str | None = None
    python: str | None = None
    pip: dict[str, str] = field(default_factory=dict)


def spec_of(fn: Callable[..., Any]) -> Spec:
    """The tarn declarations of a decorated function (an empty spec when it has none).

    Example::

        tarn.spec_of(zone_stats).pip  # {'polars': '1.*'}
    """
    found = getattr(fn, ATTRIBUTE, None)
    return found if isinstance(found, Spec) else Spec()


def _attach(fn: F, **changes: Any) -> F:
    setattr(fn, ATTRIBUTE, replace(spec_of(fn), **changes))
    return fn


def model(
    *,
    materialize: str = "NONE",
    partitioned_by: list[str] | None = None,
    overwrite_filter: str | None = None,
    tags: list[str] | None = None,
    namespace: str | None = None,
    memory: str | None = None,
    timeout: str | None = None,
) -> Callable[[F], F]:
    """Declares a model: a function from input tables to one table (pyarrow, pandas, polars or a list of dicts).

    Example::

        @tarn.model(materialize="REPLACE", partitioned_by=["zone"])
        def zone_stats(trips=tarn.Model("trips_clean", columns=["zone", "fare"])):
            return trips
    """
    if materialize not in MATERIALIZATIONS:
        raise ValueError(f"materialize must be one of {', '.join(MATERIALIZATIONS)}, not {materialize!r}")

    def wrap(fn: F) -> F:
        return _attach(
            fn,
            kind="model",
            materialize=materialize,
            partitioned_by=tuple(partitioned_by or ()),
            overwrite_filter=overwrite_filter,
            tags=tuple(tags or ()),
            namespace=namespace,
            memory=memory,
            timeout=timeout,
        )

    return wrap


def expectation(
    *, tags: list[str] | None = None, memory: str | None = None, timeout: str | None = None
) -> Callable[[F], F]:
    """Declares an expectation: a check over tables that passes (True, or an expectation result that passed) or
    fails the run (False, a failed result, or an exception).

    Example::

        @tarn.expectation()
        def fares_positive(stats=tarn.Model("zone_stats", columns=["fare"])):
            return tarn.expect.column_no_nulls(stats, "fare")
    """

    def wrap(fn: F) -> F:
        return _attach(fn, kind="expectation", tags=tuple(tags or ()), memory=memory, timeout=timeout)

    return wrap


def python(version: str | None = None, *, pip: dict[str, str] | None = None) -> Callable[[F], F]:
    """The Python version and the pinned packages of the environment the function runs in (built once and cached).

    Example::

        @tarn.python("3.11", pip={"polars": "1.*"})
        def f(t=tarn.Model("trips")):
            import polars as pl
            return pl.from_arrow(t)
    """

    def wrap(fn: F) -> F:
        return _attach(fn, python=version, pip=dict(pip or {}))

    return wrap
