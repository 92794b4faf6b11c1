"""Vectorized expectations on pyarrow.compute.

Each helper returns an :class:`ExpectationResult`: truthy when the check passed, with the number of failing rows and
a sample of them otherwise, which tarn prints in the run's report (as dbt tests do).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

SAMPLE_ROWS = 5


@dataclass(frozen=True)
class ExpectationResult:
    """The outcome of a check: passed or not, how many rows failed, a few of them and a one-line reason.

    Example::

        result = tarn.expect.column_no_nulls(table, "fare")
        bool(result), result.failed_rows
    """

    passed: bool
    failed_rows: int
    sample: pa.Table | None
    message: str

    def __bool__(self) -> bool:
        return self.passed


def _column(table: pa.Table, column: str) -> Any:
    if column not in table.column_names:
        raise KeyError(f"column {column!r} is not in the table (it has {', '.join(table.column_names)})")
    return table.column(column)


def _from_mask(table: pa.Table, failing: Any, what: str) -> ExpectationResult:
    failing = pc.fill_null(failing, True)
    count = int(pc.sum(pc.cast(failing, pa.int64())).as_py() or 0)
    if count == 0:
        return ExpectationResult(True, 0, None, f"{what}: passed")
    sample = table.filter(failing).slice(0, SAMPLE_ROWS)
    return ExpectationResult(False, count, sample, f"{what}: {count} of {table.num_rows} rows fail")


def column_no_nulls(table: pa.Table, column: str) -> ExpectationResult:
    """Every value of ``column`` is set.

    Example::

        tarn.expect.column_no_nulls(trips, "zone")
    """
    return _from_mask(table, pc.is_null(_column(table, column)), f"{column} has no nulls")


def column_unique(table: pa.Table, column: str) -> ExpectationResult:
    """No value of ``column`` appears twice (nulls are ignored).

    Example::

        tarn.expect.column_unique(zones, "zone_id")
    """
    values = _column(table, column)
    counts = pa.table({"v": values}).group_by("v").aggregate([("v", "count")])
    duplicated = counts.filter(pc.greater(counts.column("v_count"), 1)).column("v")
    return _from_mask(table, pc.is_in(values, value_set=duplicated.combine_chunks()), f"{column} is unique")


def accepted_values(table: pa.Table, column: str, values: Sequence[Any]) -> ExpectationResult:
    """Every value of ``column`` is one of ``values`` (nulls fail).

    Example::

        tarn.expect.accepted_values(trips, "payment", ["card", "cash"])
    """
    col = _column(table, column)
    allowed = pa.array(list(values), type=col.type)
    return _from_mask(table, pc.invert(pc.is_in(col, value_set=allowed)), f"{column} in accepted values")


def column_between(table: pa.Table, column: str, low: Any | None = None, high: Any | None = None) -> ExpectationResult:
    """Every value of ``column`` lies within ``[low, high]`` (either bound may be omitted; nulls fail).

    Example::

        tarn.expect.column_between(trips, "fare", low=0)
    """
    col = _column(table, column)
    failing = pc.is_null(col)
    if low is not None:
        failing = pc.or_(failing, pc.less(col, low))
    if high is not None:
        failing = pc.or_(failing, pc.greater(col, high))
    return _from_mask(table, failing, f"{column} between {low} and {high}")


def mean_between(table: pa.Table, column: str, low: float, high: float) -> ExpectationResult:
    """The mean of ``column`` lies within ``[low, high]``.

    Example::

        tarn.expect.mean_between(stats, "fare", 5, 50)
    """
    mean = pc.mean(_column(table, column)).as_py()
    passed = mean is not None and low <= mean <= high
    return ExpectationResult(passed, 0 if passed else table.num_rows, None, f"mean of {column} is {mean}")


def row_count_between(table: pa.Table, low: int, high: int | None = None) -> ExpectationResult:
    """The table has at least ``low`` and at most ``high`` rows.

    Example::

        tarn.expect.row_count_between(trips, 1)
    """
    n = table.num_rows
    passed = n >= low and (high is None or n <= high)
    return ExpectationResult(passed, 0, None, f"row count {n} between {low} and {high}")
