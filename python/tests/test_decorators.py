from __future__ import annotations

import pyarrow as pa
import pytest

import tarn


@tarn.model(materialize="REPLACE", partitioned_by=["zone"])
@tarn.python("3.11", pip={"polars": "1.*"})
def zone_stats(trips: pa.Table = tarn.Model("trips_clean", columns=["zone", "fare"], filter="fare > 0")) -> pa.Table:
    return trips.group_by("zone").aggregate([("fare", "mean")])


def test_a_decorated_model_stays_a_function_a_unit_test_can_call() -> None:
    trips = pa.table({"zone": ["a", "a", "b"], "fare": [1.0, 3.0, 5.0]})
    out = zone_stats(trips)
    assert sorted(out.to_pylist(), key=lambda r: r["zone"]) == [
        {"zone": "a", "fare_mean": 2.0},
        {"zone": "b", "fare_mean": 5.0},
    ]


def test_the_decorators_record_what_the_model_declares() -> None:
    spec = tarn.spec_of(zone_stats)
    assert spec.kind == "model"
    assert spec.materialize == "REPLACE"
    assert spec.partitioned_by == ("zone",)
    assert spec.python == "3.11"
    assert spec.pip == {"polars": "1.*"}


def test_an_unknown_materialization_is_refused_when_the_file_is_loaded() -> None:
    with pytest.raises(ValueError, match="materialize must be one of"):
        tarn.model(materialize="MERGE")


def test_a_model_input_keeps_its_columns_and_filter() -> None:
    m = tarn.Model("trips", columns=["a", "b"], filter="a > 1")
    assert (m.name, m.columns, m.filter) == ("trips", ("a", "b"), "a > 1")
    with pytest.raises(ValueError):
        tarn.Model("")
