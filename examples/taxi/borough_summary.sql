-- tarn: materialize=REPLACE
-- tarn: tags=daily
-- Per borough, from zones_enriched: zones, pickups, share of all pickups, the highest 90th percentile fare of its
-- zones and the pickup-weighted fare per km.
SELECT
  borough,
  count(*) AS zones,
  CAST(sum(pickups) AS BIGINT) AS pickups,
  round(100 * sum(share), 1) AS share_pct,
  max(p90_fare) AS top_p90_fare,
  round(sum(fare_per_km * pickups) / nullif(sum(pickups), 0), 2) AS fare_per_km
FROM zones_enriched
GROUP BY borough
ORDER BY pickups DESC, borough
