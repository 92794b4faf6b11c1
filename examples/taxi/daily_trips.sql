-- tarn: materialize=OVERWRITE_PARTITIONS
-- tarn: partitionedBy=day(pickup_ts)
-- tarn: overwriteFilter=pickup_ts >= $run_date AND pickup_ts < $run_date + INTERVAL 1 DAY
-- One day of clean trips, in a table partitioned by day: each run replaces the partition of run_date.
SELECT trip_id, pickup_ts, pickup_zone, dropoff_zone, fare, tip
FROM trips_clean
WHERE pickup_ts >= $run_date AND pickup_ts < $run_date + INTERVAL 1 DAY
