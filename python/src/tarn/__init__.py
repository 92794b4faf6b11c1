"""tarn for Python: write pipeline models and expectations as decorated functions over Arrow tables.

Example::

    import tarn

    @tarn.model(materialize="REPLACE")
    @tarn.python("3.11", pip={"polars": "1.*"})
    def zone_stats(trips=tarn.Model("trips_clean", columns=["zone", "fare"], filter="fare > 0")):
        import polars as pl
        return pl.from_arrow(trips).group_by("zone").agg(pl.col("fare").mean())
"""

from tarn import expect
from tarn.decorators import Spec, expectation, model, python, spec_of
from tarn.inputs import Context, Model, Param

__all__ = [
    "Context",
    "Model",
    "Param",
    "Spec",
    "expect",
    "expectation",
    "model",
    "python",
    "spec_of",
]
__version__ = "0.1.0"
