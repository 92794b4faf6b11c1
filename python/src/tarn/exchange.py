"""How tables move between tarn and a Python model: Parquet files, read and written with pyarrow.

Parquet because DuckDB (tarn's engine) reads and writes it natively, with every type a model may see (decimals,
timestamps with zone, lists, structs), while Arrow IPC would need a DuckDB extension that is not always installed.
Arrow IPC files (``.arrow``) are accepted too.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq


def read_table(path: str) -> pa.Table:
    """Reads an exchanged table (Parquet, or Arrow IPC for ``.arrow`` files).

    Example::

        trips = read_table("/tmp/job/in/trips.parquet")
    """
    if path.endswith(".arrow"):
        with pa.memory_map(path) as source:
            return ipc.open_file(source).read_all()
    return pq.read_table(path)


def write_table(table: pa.Table, path: str) -> None:
    """Writes an exchanged table as plain Parquet: no compression, dictionaries or statistics, since the file lives
    for one run step and DuckDB reads it once (writing dictionaries took about half of the write).

    Example::

        write_table(result, "/tmp/job/out.parquet")
    """
    if path.endswith(".arrow"):
        with pa.OSFile(path, "wb") as sink, ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        return
    pq.write_table(table, path, compression="none", use_dictionary=False, write_statistics=False)


def to_table(value: Any) -> pa.Table:
    """Converts what a model returned into a pyarrow Table: a Table, a RecordBatch, a pandas or polars DataFrame,
    a list of dicts or a dict of columns.

    Example::

        to_table([{"zone": "a", "n": 1}]).num_rows  # 1
    """
    if isinstance(value, pa.Table):
        return value
    if isinstance(value, pa.RecordBatch):
        return pa.Table.from_batches([value])
    to_arrow = getattr(value, "to_arrow", None)
    if callable(to_arrow):
        result = to_arrow()
        if isinstance(result, pa.Table):
            return result
    module = type(value).__module__
    if module.startswith("pandas"):
        return pa.Table.from_pandas(value, preserve_index=False)
    if isinstance(value, list) and all(isinstance(row, dict) for row in value):
        return pa.Table.from_pylist(value)
    if isinstance(value, dict):
        return pa.Table.from_pydict(value)
    raise TypeError(
        f"a model returns a pyarrow Table, a pandas or polars DataFrame or a list of dicts, not {type(value).__name__}"
    )
