from __future__ import annotations

import pyarrow as pa

import tarn

TABLE = pa.table({"id": [1, 2, 2, 3, None], "kind": ["a", "b", "x", "a", "b"], "fare": [1.0, -2.0, 3.0, 4.0, 5.0]})


def test_column_no_nulls_counts_the_null_rows_and_samples_them() -> None:
    r = tarn.expect.column_no_nulls(TABLE, "id")
    assert not r
    assert r.failed_rows == 1
    assert r.sample is not None and r.sample.column("kind").to_pylist() == ["b"]
    assert tarn.expect.column_no_nulls(TABLE, "kind")


def test_column_unique_fails_every_row_of_a_duplicated_value() -> None:
    r = tarn.expect.column_unique(TABLE, "id")
    assert r.failed_rows == 2
    assert r.sample is not None and r.sample.column("id").to_pylist() == [2, 2]


def test_accepted_values_fails_values_outside_the_set() -> None:
    r = tarn.expect.accepted_values(TABLE, "kind", ["a", "b"])
    assert r.failed_rows == 1
    assert "1 of 5 rows fail" in r.message


def test_column_between_and_mean_between() -> None:
    assert tarn.expect.column_between(TABLE, "fare", low=0).failed_rows == 1
    assert tarn.expect.column_between(TABLE, "fare", low=-5, high=5)
    assert tarn.expect.mean_between(TABLE, "fare", 2, 3)
    assert not tarn.expect.mean_between(TABLE, "fare", 3, 4)


def test_row_count_between() -> None:
    assert tarn.expect.row_count_between(TABLE, 1, 5)
    assert not tarn.expect.row_count_between(TABLE, 6)
