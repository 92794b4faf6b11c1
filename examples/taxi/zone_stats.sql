-- tarn: materialize=REPLACE
-- tarn: tags=daily
-- Pickups, average fare and revenue per zone.
SELECT
  z.zone_id,
  z.zone_name,
  z.borough,
  count(*) AS trips,
  round(avg(t.fare), 2) AS avg_fare,
  round(sum(t.fare + t.tip), 2) AS revenue
FROM trips_clean AS t
JOIN zones AS z ON t.pickup_zone = z.zone_id
GROUP BY z.zone_id, z.zone_name, z.borough
ORDER BY z.zone_id
