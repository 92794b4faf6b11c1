"""Reads the models and expectations of ``.py`` project files from source, without importing or running them.

``python -m tarn.static_reader FILE...`` prints one JSON document: for each file its models, expectations and the
errors found, each with its line. tarn's planner calls it once per plan.
"""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

MODEL_KEYS = {"materialize", "partitioned_by", "overwrite_filter", "tags", "namespace", "memory", "timeout"}
EXPECTATION_KEYS = {"tags", "memory", "timeout"}
CONTEXT_NAMES = {"ctx", "context"}


@dataclass
class InputDecl:
    """An argument whose default is ``tarn.Model(...)``."""

    arg: str
    name: str
    columns: list[str] | None
    filter: str | None
    line: int


@dataclass
class ParamDecl:
    """An argument whose default is ``tarn.Param(...)``."""

    arg: str
    name: str
    default: Any
    line: int


@dataclass
class FunctionDecl:
    """A decorated model or expectation as written."""

    kind: str
    name: str
    line: int
    options: dict[str, Any] = field(default_factory=dict)
    option_lines: dict[str, int] = field(default_factory=dict)
    python: str | None = None
    pip: dict[str, str] = field(default_factory=dict)
    inputs: list[InputDecl] = field(default_factory=list)
    params: list[ParamDecl] = field(default_factory=list)
    context_arg: str | None = None


@dataclass
class ReadError:
    """A problem found in a file, with its line."""

    line: int
    message: str


@dataclass
class FileDecls:
    """What one file declares."""

    file: str
    functions: list[FunctionDecl] = field(default_factory=list)
    errors: list[ReadError] = field(default_factory=list)


class _Names:
    """How the file refers to tarn's names: ``import tarn [as t]`` and ``from tarn import x [as y]``."""

    def __init__(self, tree: ast.Module) -> None:
        self.modules: set[str] = set()
        self.direct: dict[str, str] = {}
        for node in tree.body:
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name == "tarn":
                        self.modules.add(a.asname or "tarn")
            elif isinstance(node, ast.ImportFrom) and node.module == "tarn":
                for a in node.names:
                    self.direct[a.asname or a.name] = a.name

    def resolve(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return node.attr if node.value.id in self.modules else None
        if isinstance(node, ast.Name):
            return self.direct.get(node.id)
        return None


def _literal(node: ast.expr, what: str, errors: list[ReadError]) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        errors.append(ReadError(node.lineno, f"{what} is not a literal: tarn reads it without running the file"))
        return False, None


def _call_args(
    call: ast.Call, positional: list[str], allowed: set[str], what: str, errors: list[ReadError]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if len(call.args) > len(positional):
        errors.append(ReadError(call.lineno, f"{what} takes at most {len(positional)} positional arguments"))
    for name, node in zip(positional, call.args, strict=False):
        ok, value = _literal(node, f"argument {name} of {what}", errors)
        if ok:
            out[name] = value
    for kw in call.keywords:
        if kw.arg is None or kw.arg not in allowed:
            errors.append(ReadError(kw.value.lineno, f"{what} has no option {kw.arg!r}"))
            continue
        ok, value = _literal(kw.value, f"option {kw.arg} of {what}", errors)
        if ok:
            out[kw.arg] = value
    return out


def _read_function(fn: ast.FunctionDef, names: _Names, errors: list[ReadError]) -> FunctionDecl | None:
    decl: FunctionDecl | None = None
    python_opts: dict[str, Any] | None = None
    for dec in fn.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        which = names.resolve(target)
        if which not in ("model", "expectation", "python"):
            continue
        if not isinstance(dec, ast.Call):
            errors.append(ReadError(dec.lineno, f"@{which} needs parentheses: @tarn.{which}()"))
            continue
        what = f"@tarn.{which} of {fn.name}"
        if which == "python":
            python_opts = _call_args(dec, ["version"], {"version", "pip"}, what, errors)
        else:
            keys = MODEL_KEYS if which == "model" else EXPECTATION_KEYS
            if decl is not None:
                errors.append(ReadError(dec.lineno, f"{fn.name} is declared both a model and an expectation"))
                continue
            decl = FunctionDecl(which, fn.name, fn.lineno, _call_args(dec, [], keys, what, errors))
            decl.option_lines = {kw.arg: kw.value.lineno for kw in dec.keywords if kw.arg is not None}
    if decl is None:
        if python_opts is not None:
            errors.append(ReadError(fn.lineno, f"{fn.name} has @tarn.python but no @tarn.model or @tarn.expectation"))
        return None
    if python_opts is not None:
        version = python_opts.get("version")
        decl.python = None if version is None else str(version)
        pip = python_opts.get("pip") or {}
        if not isinstance(pip, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in pip.items()):
            errors.append(ReadError(fn.lineno, f"pip of {fn.name} must map package names to version specifiers"))
        else:
            decl.pip = pip
    _read_arguments(fn, decl, names, errors)
    return decl


def _read_arguments(fn: ast.FunctionDef, decl: FunctionDecl, names: _Names, errors: list[ReadError]) -> None:
    args = fn.args
    if args.vararg is not None or args.kwarg is not None:
        errors.append(ReadError(fn.lineno, f"{fn.name} cannot take *args or **kwargs"))
    plain = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(plain) - len(args.defaults)) + list(args.defaults)
    pairs = list(zip(plain, defaults, strict=False)) + list(zip(args.kwonlyargs, args.kw_defaults, strict=False))
    for arg, default in pairs:
        if default is None:
            if arg.arg in CONTEXT_NAMES:
                decl.context_arg = arg.arg
            else:
                errors.append(
                    ReadError(arg.lineno, f"argument {arg.arg} of {fn.name} needs a tarn.Model(...) or tarn.Param(...)")
                )
            continue
        which = names.resolve(default.func) if isinstance(default, ast.Call) else None
        if which == "Model" and isinstance(default, ast.Call):
            a = _call_args(default, ["name", "columns", "filter"], {"name", "columns", "filter"}, "tarn.Model", errors)
            name = a.get("name")
            if not isinstance(name, str) or name == "":
                errors.append(ReadError(default.lineno, f"tarn.Model of {arg.arg} needs a table or model name"))
                continue
            columns = a.get("columns")
            if columns is not None and not (isinstance(columns, list) and all(isinstance(c, str) for c in columns)):
                errors.append(ReadError(default.lineno, f"columns of {arg.arg} must be a list of names"))
                continue
            decl.inputs.append(InputDecl(arg.arg, name, columns, a.get("filter"), default.lineno))
        elif which == "Param" and isinstance(default, ast.Call):
            a = _call_args(default, ["name", "default"], {"name", "default"}, "tarn.Param", errors)
            if isinstance(a.get("name"), str):
                decl.params.append(ParamDecl(arg.arg, a["name"], a.get("default"), default.lineno))
        elif arg.arg in CONTEXT_NAMES:
            decl.context_arg = arg.arg
        else:
            errors.append(
                ReadError(default.lineno, f"argument {arg.arg} of {fn.name} needs a tarn.Model(...) or tarn.Param(...)")
            )


def read_source(file: str, source: str) -> FileDecls:
    """Reads one file's declarations from its text.

    Example::

        decls = read_source("stats.py", open("stats.py").read())
        [f.name for f in decls.functions]
    """
    out = FileDecls(file)
    try:
        tree = ast.parse(source, filename=file)
    except SyntaxError as e:
        out.errors.append(ReadError(e.lineno or 1, f"syntax error: {e.msg}"))
        return out
    names = _Names(tree)
    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef) and any(
            names.resolve(d.func if isinstance(d, ast.Call) else d) in ("model", "expectation")
            for d in node.decorator_list
        ):
            out.errors.append(ReadError(node.lineno, f"{node.name} is async: models are plain functions"))
        elif isinstance(node, ast.FunctionDef):
            decl = _read_function(node, names, out.errors)
            if decl is not None:
                out.functions.append(decl)
    return out


def main(argv: list[str]) -> int:
    """Prints the declarations of the files named on the command line as one JSON document."""
    files = []
    for path in argv:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            files.append(FileDecls(path, errors=[ReadError(1, f"cannot read the file: {e.strerror}")]))
            continue
        files.append(read_source(path, text))
    json.dump({"files": [asdict(f) for f in files]}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
