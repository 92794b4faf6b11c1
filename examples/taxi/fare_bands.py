import pyarrow as pa
import pyarrow.compute as pc
import tarn

SCHEMA = pa.schema(
    [
        ("pickup_zone", pa.int32()),
        ("trips", pa.int64()),
        ("median_fare", pa.float64()),
        ("p90_fare", pa.float64()),
        ("fare_per_km", pa.float64()),
    ]
)


@tarn.model(materialize="REPLACE", tags=["daily"])
def fare_bands(
    trips=tarn.Model("trips_clean", columns=["pickup_zone", "fare", "distance_km"], filter="distance_km >= 1"),
):
    """Per pickup zone, over clean trips of at least 1 km: trips, median and 90th percentile fare, fare per km."""
    totals = trips.group_by("pickup_zone").aggregate([("fare", "count"), ("fare", "sum"), ("distance_km", "sum")])
    rows = []
    for t in totals.to_pylist():
        fares = trips.filter(pc.equal(trips["pickup_zone"], t["pickup_zone"]))["fare"]
        median, p90 = pc.quantile(fares, q=[0.5, 0.9]).to_pylist()
        rows.append(
            {
                "pickup_zone": t["pickup_zone"],
                "trips": t["fare_count"],
                "median_fare": round(median, 2),
                "p90_fare": round(p90, 2),
                "fare_per_km": round(t["fare_sum"] / t["distance_km_sum"], 2),
            }
        )
    return pa.Table.from_pylist(sorted(rows, key=lambda r: r["pickup_zone"]), schema=SCHEMA)
