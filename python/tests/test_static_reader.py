from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tarn.static_reader import read_source

EXAMPLE = """\
import tarn
import some_package_that_is_not_installed

@tarn.model(materialize="REPLACE", partitioned_by=["zone"])
@tarn.python("3.11", pip={"polars": "1.*"})
def zone_stats(trips=tarn.Model("trips_clean", columns=["zone", "fare"], filter="fare > 0"), ctx=None):
    import polars as pl
    return pl.from_arrow(trips).group_by("zone").agg(pl.col("fare").mean())


@tarn.expectation()
@tarn.python("3.11")
def fares_positive(stats=tarn.Model("zone_stats", columns=["fare"]), low=tarn.Param("min_fare", 0)):
    return tarn.expect.column_no_nulls(stats, "fare")


def helper(x):
    return x
"""


def test_models_and_expectations_are_read_with_their_lines_options_and_inputs() -> None:
    decls = read_source("stats.py", EXAMPLE)
    assert decls.errors == []
    model, check = decls.functions
    assert (model.kind, model.name, model.line) == ("model", "zone_stats", 6)
    assert model.options == {"materialize": "REPLACE", "partitioned_by": ["zone"]}
    assert (model.python, model.pip) == ("3.11", {"polars": "1.*"})
    assert [(i.arg, i.name, i.columns, i.filter, i.line) for i in model.inputs] == [
        ("trips", "trips_clean", ["zone", "fare"], "fare > 0", 6)
    ]
    assert model.context_arg == "ctx"
    assert (check.kind, check.name) == ("expectation", "fares_positive")
    assert [(p.arg, p.name, p.default) for p in check.params] == [("low", "min_fare", 0)]


def test_planning_never_runs_the_file(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    source = f"import tarn\nopen({str(marker)!r}, 'w').write('x')\n" + EXAMPLE.split("\n", 2)[2]
    file = tmp_path / "m.py"
    file.write_text(source)
    done = subprocess.run(
        [sys.executable, "-m", "tarn.static_reader", str(file)], capture_output=True, text=True, check=True
    )
    doc = json.loads(done.stdout)
    assert [f["name"] for f in doc["files"][0]["functions"]] == ["zone_stats", "fares_positive"]
    assert not marker.exists()


def test_a_decorator_argument_that_is_not_a_literal_is_an_error_at_its_line() -> None:
    source = "\n".join(
        [
            "import tarn",
            'MODE = "REPLACE"',
            "",
            "@tarn.model(",
            "    materialize=MODE)",
            'def m(t=tarn.Model("x")):',
            "    return t",
        ]
    )
    decls = read_source("m.py", source)
    assert [(e.line, e.message) for e in decls.errors] == [
        (5, "option materialize of @tarn.model of m is not a literal: tarn reads it without running the file")
    ]


def test_unknown_options_and_undeclared_arguments_are_errors() -> None:
    source = 'from tarn import model, Model as In\n\n@model(materialise="REPLACE")\ndef m(t=In("x"), y=3):\n    pass\n'
    decls = read_source("m.py", source)
    messages = [(e.line, e.message) for e in decls.errors]
    assert (3, "@tarn.model of m has no option 'materialise'") in messages
    assert (4, "argument y of m needs a tarn.Model(...) or tarn.Param(...)") in messages
    assert decls.functions[0].inputs[0].name == "x"


def test_a_syntax_error_names_its_line() -> None:
    decls = read_source("bad.py", "import tarn\n\ndef f(:\n  pass\n")
    assert decls.errors[0].line == 3
    assert decls.errors[0].message.startswith("syntax error")


def test_the_static_reader_needs_only_the_standard_library(tmp_path: Path) -> None:
    blocker = tmp_path / "pyarrow.py"
    blocker.write_text("raise ImportError('pyarrow must not be imported to plan')\n")
    file = tmp_path / "m.py"
    file.write_text(EXAMPLE)
    env = {"PYTHONPATH": f"{tmp_path}:{Path(__file__).parent.parent / 'src'}"}
    done = subprocess.run(
        [sys.executable, "-m", "tarn.static_reader", str(file)], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["files"][0]["functions"]) == 2
