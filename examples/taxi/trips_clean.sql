-- tarn: materialize=REPLACE
-- tarn: tags=daily
-- Trips with a plausible fare, distance and duration.
WITH valid AS (
  SELECT trip_id, pickup_ts, dropoff_ts, pickup_zone, dropoff_zone, passengers, distance_km, fare, tip
  FROM trips
  WHERE fare >= $min_fare
    AND dropoff_ts > pickup_ts
    AND distance_km > 0
)
SELECT
  trip_id,
  pickup_ts,
  dropoff_ts,
  pickup_zone,
  dropoff_zone,
  passengers,
  distance_km,
  fare,
  tip,
  date_diff('minute', pickup_ts, dropoff_ts) AS duration_min
FROM valid
