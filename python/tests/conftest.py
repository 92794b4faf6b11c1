from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def run_task(tmp_path: Path, source: str, function: str, **task: Any) -> tuple[int, str, Path]:
    """Writes a model file and a task, runs `python -m tarn.runner`, returns (exit code, stderr, task dir)."""
    model = tmp_path / "models.py"
    model.write_text(source)
    doc = {
        "file": str(model),
        "function": function,
        "output": str(tmp_path / task.pop("output_name", "out.parquet")),
        "error_file": str(tmp_path / "error.json"),
        **task,
    }
    (tmp_path / "task.json").write_text(json.dumps(doc))
    done = subprocess.run(
        [sys.executable, "-m", "tarn.runner", str(tmp_path / "task.json")], capture_output=True, text=True, check=False
    )
    return done.returncode, done.stderr, tmp_path


@pytest.fixture
def runner(tmp_path: Path) -> Any:
    def go(source: str, function: str, **task: Any) -> tuple[int, str, Path]:
        return run_task(tmp_path, source, function, **task)

    return go
