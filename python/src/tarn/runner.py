"""Runs one model or expectation of a project in this process: ``python -m tarn.runner TASK.json``.

The task (written by tarn) names the file and function, the exchanged input files, the parameters and where the
output goes. On failure the runner writes an error document with the user's frames only and exits non-zero.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import traceback
from dataclasses import dataclass
from typing import Any

from tarn.exchange import read_table, to_table, write_table
from tarn.expect import ExpectationResult
from tarn.inputs import Context

EXIT_FAILED = 1
EXIT_OUT_OF_MEMORY = 3


@dataclass(frozen=True)
class Task:
    """What to run, as tarn describes it."""

    file: str
    function: str
    kind: str
    inputs: dict[str, str]
    params: dict[str, Any]
    param_args: dict[str, str]
    context_arg: str | None
    output: str
    error_file: str
    job_id: str = ""
    memory_bytes: int | None = None
    resident_limit_bytes: int | None = None

    @staticmethod
    def load(path: str) -> Task:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        return Task(
            file=raw["file"],
            function=raw["function"],
            kind=raw.get("kind", "model"),
            inputs=raw.get("inputs", {}),
            params=raw.get("params", {}),
            param_args=raw.get("param_args", {}),
            context_arg=raw.get("context_arg"),
            output=raw["output"],
            error_file=raw["error_file"],
            job_id=raw.get("job_id", ""),
            memory_bytes=raw.get("memory_bytes"),
            resident_limit_bytes=raw.get("resident_limit_bytes"),
        )


def _limit_memory(limit: int | None) -> None:
    if limit is None:
        return
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass


def _peak_resident_bytes() -> int | None:
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def _check_resident(limit: int | None) -> None:
    """Fails like an allocation would when the process's peak resident size went past the limit: tarn's watchdog
    samples the size, and a model that touched too much memory between two samples must not pass for it."""
    if limit is None:
        return
    peak = _peak_resident_bytes()
    if peak is not None and peak > limit:
        raise MemoryError(f"peak resident memory {peak // 2**20} MB is over the limit of {limit // 2**20} MB")


def _load_function(task: Task) -> Any:
    directory = os.path.dirname(os.path.abspath(task.file))
    if directory not in sys.path:
        sys.path.insert(0, directory)
    name = "tarn_user_" + os.path.splitext(os.path.basename(task.file))[0]
    spec = importlib.util.spec_from_file_location(name, task.file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {task.file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    fn = getattr(module, task.function, None)
    if not callable(fn):
        raise AttributeError(f"{task.file} defines no function {task.function}")
    return fn


def _user_frames(error: BaseException, file: str) -> list[dict[str, Any]]:
    here = os.path.dirname(os.path.abspath(__file__))
    project = os.path.dirname(os.path.abspath(file))
    frames = []
    for fs in traceback.extract_tb(error.__traceback__):
        path = os.path.abspath(fs.filename)
        if path.startswith(here) or not path.startswith(project):
            continue
        frames.append({"file": os.path.relpath(path, project), "line": fs.lineno, "function": fs.name, "code": fs.line})
    return frames


def _expectation_document(value: Any) -> dict[str, Any]:
    if isinstance(value, ExpectationResult):
        sample = value.sample.to_pylist() if value.sample is not None else []
        return {"passed": value.passed, "failed_rows": value.failed_rows, "sample": sample, "message": value.message}
    if isinstance(value, bool):
        return {"passed": value, "failed_rows": None, "sample": [], "message": ""}
    table = to_table(value)
    return {
        "passed": table.num_rows == 0,
        "failed_rows": table.num_rows,
        "sample": table.slice(0, 5).to_pylist(),
        "message": f"{table.num_rows} failing rows" if table.num_rows else "",
    }


def run(task: Task) -> int:
    """Runs a task; returns the process exit code.

    Example::

        run(Task.load("/tmp/job/task.json"))
    """
    try:
        _limit_memory(task.memory_bytes)
        fn = _load_function(task)
        kwargs: dict[str, Any] = {arg: read_table(path) for arg, path in task.inputs.items()}
        for arg, param in task.param_args.items():
            kwargs[arg] = task.params.get(param)
        if task.context_arg is not None:
            kwargs[task.context_arg] = Context(params=dict(task.params), job_id=task.job_id, model=task.function)
        value = fn(**kwargs)
        _check_resident(task.resident_limit_bytes)
        if task.kind == "expectation":
            with open(task.output, "w", encoding="utf-8") as f:
                json.dump(_expectation_document(value), f, default=str)
        else:
            table = to_table(value)
            write_table(table, task.output)
            with open(task.output + ".rows", "w", encoding="utf-8") as f:
                f.write(str(table.num_rows))
        return 0
    except BaseException as error:
        frames = _user_frames(error, task.file)
        where = frames[-1] if frames else {"file": os.path.basename(task.file), "line": None}
        document = {
            "type": type(error).__name__,
            "message": str(error),
            "file": where["file"],
            "line": where["line"],
            "frames": frames,
        }
        with open(task.error_file, "w", encoding="utf-8") as f:
            json.dump(document, f)
        for frame in frames:
            print(f'  File "{frame["file"]}", line {frame["line"]}, in {frame["function"]}', file=sys.stderr)
            if frame["code"]:
                print(f"    {frame['code']}", file=sys.stderr)
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_OUT_OF_MEMORY if isinstance(error, MemoryError) else EXIT_FAILED


def main(argv: list[str]) -> int:
    """Runs the task named on the command line, or, with ``-``, the one named on standard input: tarn starts the
    process (and its imports, pyarrow's above all) while it still prepares the inputs, then sends the task's path."""
    path = sys.stdin.readline().strip() if argv[0] == "-" else argv[0]
    if path == "":
        return EXIT_FAILED
    return run(Task.load(path))


def _exit(code: int) -> None:
    """Ends the process without the interpreter's teardown (finalising pyarrow's and the user's modules), which
    tarn would otherwise wait for after the result is written: the output is flushed first."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit(main(sys.argv[1:]))
