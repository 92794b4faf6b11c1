from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

UTC = dt.timezone.utc

RICH = pa.table(
    {
        "id": pa.array([1, 2, None], pa.int64()),
        "amount": pa.array([Decimal("1.250"), Decimal("-3.500"), None], pa.decimal128(18, 3)),
        "at": pa.array(
            [
                dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc),
                None,
                dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc),
            ],
            pa.timestamp("us", tz="UTC"),
        ),
        "day": pa.array([dt.date(2026, 1, 1), None, dt.date(2026, 1, 3)], pa.date32()),
        "tags": pa.array([[1, 2], [], None], pa.list_(pa.int32())),
        "point": pa.array(
            [{"x": 1.0, "y": "a"}, None, {"x": 3.0, "y": None}], pa.struct([("x", pa.float64()), ("y", pa.string())])
        ),
        "nested": pa.array([[{"k": "a"}], None, []], pa.list_(pa.struct([("k", pa.string())]))),
    }
)


def test_a_model_that_returns_its_input_gives_back_every_type_unchanged(runner: Any, tmp_path: Path) -> None:
    pq.write_table(RICH, tmp_path / "in.parquet")
    code, err, d = runner(
        "import tarn\n\n@tarn.model()\ndef same(t=tarn.Model('x')):\n    return t\n",
        "same",
        inputs={"t": str(tmp_path / "in.parquet")},
    )
    assert code == 0, err
    out = pq.read_table(d / "out.parquet")
    assert out.schema.equals(RICH.schema)
    assert out.equals(RICH)


def test_lists_of_dicts_params_and_the_context_reach_the_model(runner: Any) -> None:
    source = (
        "import tarn\n\n"
        "def rows(n=tarn.Param('n', 1), ctx=None):\n"
        "    return [{'i': i, 'who': ctx.job_id} for i in range(n)]\n"
    )
    code, err, d = runner(source, "rows", params={"n": 3}, param_args={"n": "n"}, context_arg="ctx", job_id="job-1")
    assert code == 0, err
    assert pq.read_table(d / "out.parquet").to_pylist() == [{"i": i, "who": "job-1"} for i in range(3)]


def test_pandas_and_polars_results_become_arrow(runner: Any) -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("polars")
    source = (
        "import pandas as pd\nimport polars as pl\n\n"
        "def p():\n    return pd.DataFrame({'a': [1, 2]})\n\n"
        "def q():\n    return pl.DataFrame({'a': [1, 2]})\n"
    )
    for fn in ("p", "q"):
        code, err, d = runner(source, fn)
        assert code == 0, err
        assert pq.read_table(d / "out.parquet").column("a").to_pylist() == [1, 2]


def test_an_error_reports_the_users_line_without_tarns_frames(runner: Any) -> None:
    source = "import tarn\n\ndef helper(x):\n    return x / 0\n\ndef boom():\n    return helper(1)\n"
    code, err, d = runner(source, "boom")
    assert code == 1
    doc = json.loads((d / "error.json").read_text())
    assert doc["type"] == "ZeroDivisionError"
    assert (doc["file"], doc["line"]) == ("models.py", 4)
    assert [f["function"] for f in doc["frames"]] == ["boom", "helper"]
    assert "runner.py" not in err
    assert 'File "models.py", line 4, in helper' in err


def test_an_expectation_reports_failing_rows_and_a_sample(runner: Any, tmp_path: Path) -> None:
    pq.write_table(pa.table({"fare": [1.0, None, None]}), tmp_path / "in.parquet")
    source = "import tarn\n\ndef check(t=tarn.Model('x')):\n    return tarn.expect.column_no_nulls(t, 'fare')\n"
    code, err, d = runner(
        source, "check", kind="expectation", inputs={"t": str(tmp_path / "in.parquet")}, output_name="result.json"
    )
    assert code == 0, err
    doc = json.loads((d / "result.json").read_text())
    assert doc["passed"] is False
    assert doc["failed_rows"] == 2
    assert doc["sample"] == [{"fare": None}, {"fare": None}]


def test_a_memory_limit_stops_a_model_that_allocates_too_much(runner: Any) -> None:
    source = "def hog():\n    b = bytearray(2 * 1024**3)\n    return [{'n': len(b)}]\n"
    code, _err, d = runner(source, "hog", memory_bytes=512 * 1024**2)
    assert code == 3
    assert json.loads((d / "error.json").read_text())["type"] == "MemoryError"


def test_a_model_that_touched_more_resident_memory_than_its_limit_fails_even_when_it_freed_it(runner: Any) -> None:
    source = (
        "def spike():\n"
        "    b = bytearray(256 * 1024**2)\n"
        "    b[::4096] = b'x' * len(b[::4096])\n"
        "    del b\n"
        "    return [{'n': 1}]\n"
    )
    code, _err, d = runner(source, "spike", resident_limit_bytes=200 * 1024**2)
    assert code == 3
    error = json.loads((d / "error.json").read_text())
    assert error["type"] == "MemoryError"
    assert "over the limit of 200 MB" in error["message"]
    ok, _err, _d = runner(source, "spike", resident_limit_bytes=2 * 1024**3)
    assert ok == 0
