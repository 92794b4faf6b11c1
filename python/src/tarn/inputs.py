"""Declarations of a model's inputs and parameters, written as the default values of its arguments."""

from __future__ import annotations

from dataclasses import dataclass, field

ParamValue = str | int | float | bool | None


@dataclass(frozen=True)
class Model:
    """An input of a model: a lake table or another model (SQL, TypeScript or Python), read as a pyarrow Table.

    ``columns`` and ``filter`` are pushed into the scan, so only the files and columns needed are read.

    Example::

        def zone_stats(trips=tarn.Model("trips_clean", columns=["zone", "fare"], filter="fare > 0")):
            ...
    """

    name: str
    columns: tuple[str, ...] | None = None
    filter: str | None = None

    def __init__(self, name: str, columns: list[str] | None = None, filter: str | None = None) -> None:
        if not isinstance(name, str) or name == "":
            raise ValueError("tarn.Model needs the name of a table or model")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "columns", None if columns is None else tuple(columns))
        object.__setattr__(self, "filter", filter)


@dataclass(frozen=True)
class Param:
    """A pipeline parameter (``--param name=value``), with the default used when the run does not set it.

    Example::

        def recent(trips=tarn.Model("trips"), days=tarn.Param("days", 7)):
            ...
    """

    name: str
    default: ParamValue = None


@dataclass(frozen=True)
class Context:
    """What a model sees of its run: the parameters and the job that runs it.

    Example::

        def daily(trips=tarn.Model("trips"), ctx=None):
            cutoff = ctx.params["since"]
    """

    params: dict[str, ParamValue] = field(default_factory=dict)
    job_id: str = ""
    model: str = ""
