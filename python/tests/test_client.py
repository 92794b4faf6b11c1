from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import tarn

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "bin" / "tarn.js"


def tarn_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TARN_HOME": str(home), "TARN_USER": "tester"}
    return subprocess.run(["node", str(CLI), *args], capture_output=True, text=True, env=env, check=False)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[tarn.Client, Path]]:
    if not (ROOT / "dist" / "index.js").exists():
        pytest.skip("tarn is not built (npm run build)")
    home = tmp_path_factory.mktemp("lake")
    assert tarn_cli(home, "init").returncode == 0
    data = tmp_path_factory.mktemp("data") / "zones.csv"
    data.write_text("zone_id,zone_name\n1,Harbor\n2,Old Town\n3,Airport\n")
    created = tarn_cli(home, "table", "create", "zones", "--from", str(data))
    assert created.returncode == 0, created.stderr
    env = {**os.environ, "TARN_HOME": str(home), "TARN_USER": "tester"}
    server = subprocess.Popen(
        ["node", str(CLI), "serve", "--port", "0", "--json"], stdout=subprocess.PIPE, text=True, env=env
    )
    assert server.stdout is not None
    text = ""
    while True:
        line = server.stdout.readline()
        assert line != "", "tarn serve stopped before printing its URL"
        text += line
        try:
            url = json.loads(text)["url"]
            break
        except json.JSONDecodeError:
            continue
    try:
        yield tarn.Client(url=url), home
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_million_row_query_arrives_as_a_pyarrow_table_that_matches_tarn_query(
    served: tuple[tarn.Client, Path],
) -> None:
    client, home = served
    table = client.query("SELECT i, i * 2 AS j, 'z' || (i % 7)::VARCHAR AS k FROM range(1000000) t(i)")
    assert isinstance(table, pa.Table)
    assert table.num_rows == 1_000_000
    assert table.column_names == ["i", "j", "k"]
    out = tarn_cli(
        home,
        "query",
        "--json",
        "SELECT sum(i) AS si, sum(i * 2) AS sj, count(DISTINCT 'z' || (i % 7)::VARCHAR) AS k FROM range(1000000) t(i)",
    )
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)["rows"][0]
    assert int(row["si"]) == pc.sum(table.column("i")).as_py()
    assert int(row["sj"]) == pc.sum(table.column("j")).as_py()
    assert int(row["k"]) == len(pc.unique(table.column("k")))


def test_branches_merges_and_history_have_the_sdk_names_and_semantics(served: tuple[tarn.Client, Path]) -> None:
    client, _ = served
    client.create_branch("py.dev", from_ref="main")
    assert "py.dev" in [b["name"] for b in client.branches()]
    assert client.query("SELECT count(*) AS n FROM zones", ref="py.dev").column("n").to_pylist() == [3]
    merged = client.merge("py.dev", into="main")
    assert merged["kind"] in ("up-to-date", "fast-forward", "merge")
    assert len(client.log("main", n=5)) >= 1
    assert [t["name"] for t in client.tables(ref="main")] == ["zones"]
    client.delete_branch("py.dev")
    assert "py.dev" not in [b["name"] for b in client.branches()]


def test_errors_are_typed_and_carry_the_codes(served: tuple[tarn.Client, Path]) -> None:
    client, _ = served
    with pytest.raises(tarn.NotFoundError) as missing:
        client.branch("no.such.branch")
    assert missing.value.code == "BRANCH_NOT_FOUND"
    with pytest.raises(tarn.ConflictError) as exists:
        client.create_branch("main")
    assert exists.value.code == "BRANCH_EXISTS"
    with pytest.raises(tarn.InvalidRequestError):
        client.query("SELEC oops")
