import type { RuleGroup } from './rule.js';

// performance-events is loaded with small parameters (about a day at low TPS): the rules hold
// for any parameters; the statistical ones are tolerant enough for a few hundred incident events.
const TS = '"@timestamp"';

/** Business rules of the performance entities (see rule.ts). */
export const performanceRules: RuleGroup[] = [
  {
    name: 'performance: events',
    rules: ({ inWindow }) => [
      {
        name: 'event timestamps fall inside the date window',
        from: 'performance_events',
        holds: inWindow(TS),
        show: `event_id, ${TS}`,
      },
      {
        name: 'status is error iff there is an error code and message, and iff the HTTP status is 4xx/5xx',
        from: 'performance_events',
        holds: `(status = 'error') = (error_code IS NOT NULL) AND (error_code IS NULL) = (error_message IS NULL)
                AND (status = 'error') = (http_status >= 400)`,
        show: 'event_id, status, http_status, error_code, error_message',
      },
      {
        name: 'incident id, type and phase are set together, or not at all',
        from: 'performance_events',
        holds: '(incident_id IS NULL) = (incident_type IS NULL) AND (incident_id IS NULL) = (incident_phase IS NULL)',
        show: 'event_id, incident_id, incident_type, incident_phase',
      },
      {
        name: 'requests caught in an active incident take 5-35 s',
        from: 'performance_events',
        where: "incident_phase = 'active'",
        holds: 'response_time_ms BETWEEN 5000 AND 35000',
        show: `event_id, ${TS}, incident_id, response_time_ms`,
      },
      {
        name: 'requests outside incidents take under 5 s',
        from: 'performance_events',
        where: 'incident_id IS NULL',
        holds: 'response_time_ms < 5000',
        show: `event_id, ${TS}, service_name, status, response_time_ms`,
      },
      {
        name: 'host metrics are percentages and the service runs on its own pods',
        from: 'performance_events',
        holds: `cpu_percent BETWEEN 0 AND 100 AND memory_percent BETWEEN 0 AND 100 AND db_pool_usage_percent BETWEEN 0 AND 100
                AND gc_pause_ms >= 0 AND starts_with(host_name, service_name || '-')`,
        show: 'event_id, service_name, host_name, cpu_percent, memory_percent, db_pool_usage_percent, gc_pause_ms',
      },
      {
        name: 'transaction_id is unique',
        from: '(SELECT transaction_id, count(*) AS n FROM performance_events GROUP BY transaction_id) x',
        holds: 'n = 1',
      },
      {
        name: 'outside incidents 1-2% of requests fail',
        from: `(SELECT avg((status = 'error')::int) AS share, count(*) AS n FROM performance_events WHERE incident_id IS NULL) x`,
        holds: 'n > 1000 AND share BETWEEN 0.01 AND 0.02',
      },
      {
        name: 'traffic follows the day: the evening peak (17-21h) is over twice the night (0-6h)',
        from: `(SELECT avg(n) FILTER (WHERE h < 6) AS night, avg(n) FILTER (WHERE h BETWEEN 17 AND 20) AS evening
                FROM (SELECT date_trunc('hour', ${TS}) AS hour, extract(hour FROM ${TS} AT TIME ZONE 'UTC') AS h, count(*) AS n
                      FROM performance_events GROUP BY 1, 2) per_hour) x`,
        holds: 'evening > 2 * night',
      },
    ],
  },
  {
    name: 'performance: incidents',
    rules: () => [
      {
        name: 'an incident has one type, one error code and one error message',
        from: `(SELECT incident_id, count(DISTINCT incident_type) AS types, count(DISTINCT error_code) FILTER (WHERE incident_phase = 'active') AS codes,
                       count(DISTINCT error_message) FILTER (WHERE incident_phase = 'active') AS messages,
                       count(*) FILTER (WHERE incident_phase = 'active' AND status = 'error') AS errors
                FROM performance_events WHERE incident_id IS NOT NULL GROUP BY incident_id) x`,
        holds: 'types = 1 AND (errors = 0 OR (codes = 1 AND messages = 1))',
      },
      {
        name: 'an incident is active for at most 15 minutes, then recovers; all within 25 minutes',
        from: `(SELECT incident_id, min(${TS}) AS first, max(${TS}) AS last,
                       max(${TS}) FILTER (WHERE incident_phase = 'active') AS active_last,
                       min(${TS}) FILTER (WHERE incident_phase = 'recovery') AS recovery_first,
                       min(${TS}) FILTER (WHERE incident_phase = 'active') AS active_first
                FROM performance_events WHERE incident_id IS NOT NULL GROUP BY incident_id) x`,
        holds: `last - first < interval '25 minutes' AND active_last - active_first < interval '15 minutes'
                AND (recovery_first IS NULL OR active_last IS NULL OR active_last <= recovery_first)`,
      },
      {
        name: 'while an incident is active, 25-40% of its requests fail (with sampling tolerance)',
        from: `(SELECT incident_id, count(*) AS n, avg((status = 'error')::int) AS share
                FROM performance_events WHERE incident_phase = 'active' GROUP BY incident_id) x`,
        where: 'n >= 50',
        holds: 'share BETWEEN 0.25 - 3 * sqrt(0.25 * 0.75 / n) AND 0.40 + 3 * sqrt(0.40 * 0.60 / n)',
      },
      {
        name: 'an incident touches only the services its type affects',
        from: 'performance_events',
        where: 'incident_id IS NOT NULL',
        holds: `service_name = ANY (CASE incident_type
                  WHEN 'payment_gateway_timeout' THEN ARRAY['payment-service', 'checkout-service']
                  WHEN 'database_connection_pool_exhaustion' THEN ARRAY['order-service', 'inventory-service']
                  WHEN 'memory_pressure' THEN ARRAY['checkout-service']
                  WHEN 'circuit_breaker_activation' THEN ARRAY['cart-service', 'product-service']
                  WHEN 'upstream_service_degradation' THEN ARRAY['shipping-service', 'checkout-service'] END)`,
        show: 'event_id, incident_id, incident_type, service_name',
      },
      {
        name: 'other services carry on normally during an incident',
        from: `(SELECT count(*) AS n FROM performance_events e
                JOIN (SELECT incident_id, min(${TS}) AS a, max(${TS}) AS b FROM performance_events WHERE incident_id IS NOT NULL GROUP BY 1) w
                  ON e.${TS} BETWEEN w.a AND w.b
                WHERE e.incident_id IS NULL) x`,
        holds: 'n > 0',
      },
    ],
  },
];
