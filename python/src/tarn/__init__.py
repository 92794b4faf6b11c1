"""tarn for Python: write pipeline models and expectations as decorated functions over Arrow tables.

Example::

    import tarn

    @tarn.model(materialize="REPLACE")
    @tarn.python("3.11", pip={"polars": "1.*"})
    def zone_stats(trips=tarn.Model("trips_clean", columns=["zone", "fare"], filter="fare > 0")):
        import polars as pl
        return pl.from_arrow(trips).group_by("zone").agg(pl.col("fare").mean())
"""

from typing import TYPE_CHECKING, Any

from tarn.decorators import Spec, expectation, model, python, spec_of
from tarn.errors import (
    ConflictError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    TarnError,
    TooManyRequestsError,
    UnauthorizedError,
)
from tarn.inputs import Context, Model, Param

__all__ = [
    "Client",
    "ConflictError",
    "Context",
    "ForbiddenError",
    "InvalidRequestError",
    "Model",
    "NotFoundError",
    "Param",
    "Spec",
    "TarnError",
    "TooManyRequestsError",
    "UnauthorizedError",
    "expect",
    "expectation",
    "model",
    "python",
    "spec_of",
]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from tarn import expect
    from tarn.client import Client


def __getattr__(name: str) -> Any:
    # `tarn.expect` needs pyarrow; planning (tarn.static_reader) imports this package with the standard library only
    if name == "expect":
        import tarn.expect as module

        return module
    if name == "Client":
        from tarn.client import Client

        return Client
    raise AttributeError(f"module 'tarn' has no attribute {name!r}")
