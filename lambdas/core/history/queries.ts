/**
 * Every query the product runs on the history tables, in the SQL subset that DuckDB (local Parquet)
 * and Athena (Trino, Iceberg) both run. Where the two differ, a small dialect map below picks the
 * spelling; everything else is written once. Rules kept here (see `../shared/notes/history-store.md` §5):
 * timestamps as `CAST(? AS TIMESTAMP)` with 'YYYY-MM-DD HH:MM:SS.sss'; `count_if`, `arbitrary`,
 * `max_by`; no `QUALIFY`, `::` or `GROUP BY ALL`; divisions over DOUBLE; complex values (maps, lists)
 * returned as JSON text so both engines return the same string. Pure: strings in, strings out.
 *
 * Rows are delivered at least once (a retried Lambda batch writes its rows again), so per-sample
 * queries group by (asset_id, seq) and alerts by alert_id. `predictions` also holds shadow challengers'
 * rows (`role = 'challenger'`, schema 2): every query of what the twin decided with keeps
 * {@link CHAMPION_ROWS} (rows of schema 1 have no role and are the champion's).
 */
import { type HistoryTable, HISTORY_TABLES } from './tables.ts';

export type Dialect = 'duckdb' | 'athena';

export interface SqlQuery {
  readonly sql: string;
  readonly params: readonly (string | number)[];
}

const DIALECT = {
  duckdb: {
    /** A MAP or LIST as JSON text. */
    json: (expr: string) => `CAST(to_json(${expr}) AS VARCHAR)`,
  },
  athena: {
    json: (expr: string) => `json_format(CAST(${expr} AS JSON))`,
  },
} as const satisfies Record<Dialect, { json: (expr: string) => string }>;

/** The predictions rows the twin decided with: the champion's, including rows written before roles existed. */
export const CHAMPION_ROWS = `coalesce(role, 'champion') = 'champion'`;

/** Epoch ms as the timestamp literal text both engines cast (UTC, millisecond precision). */
export function timestampText(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** A query argument that is not what the query needs. */
export class HistoryQueryInputError extends Error {
  override readonly name: string = 'HistoryQueryInputError';
}

function checkMs(name: string, ms: number): void {
  if (!Number.isFinite(ms)) throw new HistoryQueryInputError(`${name} must be a finite epoch-ms time, got ${ms}`);
}

function checkLimit(limit: number, max: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new HistoryQueryInputError(`limit must be a whole number from 1 to ${max}, got ${limit}`);
  }
}

/** Rows per table. */
export function tableCounts(): SqlQuery {
  return {
    sql: HISTORY_TABLES.map((t: HistoryTable) => `SELECT '${t}' AS table_name, count(*) AS n FROM ${t}`).join('\nUNION ALL\n'),
    params: [],
  };
}

/** One asset's rows per table since `sinceMs` (`pdm smoke` waits for them after a deploy). */
export function assetTableCounts(assetId: string, sinceMs: number): SqlQuery {
  checkMs('since', sinceMs);
  return {
    sql: HISTORY_TABLES.map(
      (t: HistoryTable) => `SELECT '${t}' AS table_name, count(*) AS n FROM ${t} WHERE asset_id = ? AND ts >= CAST(? AS TIMESTAMP)`,
    ).join('\nUNION ALL\n'),
    params: HISTORY_TABLES.flatMap(() => [assetId, timestampText(sinceMs)]),
  };
}

/**
 * One asset's newest `limit` samples since `sinceMs`, oldest first, with the prediction of each:
 * `ts`, `seq`, `readings` (JSON text), `anomaly`, `failure_probability`, `rul`.
 */
export function assetHistory(d: Dialect, assetId: string, sinceMs: number, limit: number): SqlQuery {
  checkMs('since', sinceMs);
  checkLimit(limit, 100_000);
  const j = DIALECT[d].json;
  return {
    sql: `SELECT * FROM (
  SELECT t.ts, t.seq, ${j('t.readings')} AS readings, p.anomaly, p.failure_probability, p.rul
  FROM (SELECT asset_id, seq, arbitrary(ts) AS ts, arbitrary(readings) AS readings FROM telemetry
        WHERE asset_id = ? AND ts >= CAST(? AS TIMESTAMP) GROUP BY asset_id, seq) t
  LEFT JOIN (SELECT asset_id, seq, arbitrary(anomaly) AS anomaly, arbitrary(failure_probability) AS failure_probability,
                    arbitrary(rul) AS rul FROM predictions
             WHERE asset_id = ? AND ts >= CAST(? AS TIMESTAMP) AND ${CHAMPION_ROWS} GROUP BY asset_id, seq) p
    ON p.asset_id = t.asset_id AND p.seq = t.seq
  ORDER BY t.seq DESC LIMIT ${limit}) h
ORDER BY seq`,
    params: [assetId, timestampText(sinceMs), assetId, timestampText(sinceMs)],
  };
}

/** The newest `limit` alerts since `sinceMs`, newest first, one row per alert id. */
export function recentAlerts(sinceMs: number, limit: number): SqlQuery {
  checkMs('since', sinceMs);
  checkLimit(limit, 10_000);
  return {
    sql: `SELECT alert_id, arbitrary(asset_id) AS asset_id, arbitrary(site_id) AS site_id, arbitrary(model_id) AS model_id,
       arbitrary(ts) AS ts, arbitrary(seq) AS seq, arbitrary(scope) AS scope, arbitrary(component) AS component,
       arbitrary(from_state) AS from_state, arbitrary(to_state) AS to_state, arbitrary(severity) AS severity,
       arbitrary(risk) AS risk, arbitrary(anomaly) AS anomaly, arbitrary(failure_probability) AS failure_probability,
       arbitrary(rul) AS rul, arbitrary(rul_unit) AS rul_unit, arbitrary(top_contributors) AS top_contributors,
       arbitrary(estimated_cost_avoided_usd) AS estimated_cost_avoided_usd
FROM alerts WHERE ts >= CAST(? AS TIMESTAMP)
GROUP BY alert_id ORDER BY ts DESC, alert_id LIMIT ${limit}`,
    params: [timestampText(sinceMs)],
  };
}

/**
 * Feature rows of an asset model in [from, to), one per (asset, seq), with the vector as JSON text in
 * the order of the asset model's feature names: the input of `pdm history export`.
 */
export function trainingFeatures(d: Dialect, modelId: string, fromMs: number, toMs: number): SqlQuery {
  checkMs('from', fromMs);
  checkMs('to', toMs);
  return {
    sql: `SELECT asset_id, seq, arbitrary(ts) AS ts, ${DIALECT[d].json('arbitrary(vector)')} AS vector
FROM features
WHERE model_id = ? AND ts >= CAST(? AS TIMESTAMP) AND ts < CAST(? AS TIMESTAMP)
GROUP BY asset_id, seq ORDER BY asset_id, seq`,
    params: [modelId, timestampText(fromMs), timestampText(toMs)],
  };
}

/**
 * Repairs and replacements (the failure evidence the labels come from) of an asset model since
 * `fromMs`, with the component each names (null = the whole asset).
 */
export function failureEvents(modelId: string, fromMs: number): SqlQuery {
  checkMs('from', fromMs);
  return {
    sql: `SELECT DISTINCT asset_id, ts, component FROM maintenance
WHERE model_id = ? AND kind IN ('repair', 'replacement') AND ts >= CAST(? AS TIMESTAMP)
ORDER BY asset_id, ts, component`,
    params: [modelId, timestampText(fromMs)],
  };
}

/** Newest sample time per asset of a model (where each asset's observed history ends). */
export function lastSampleTimes(modelId: string): SqlQuery {
  return {
    sql: `SELECT asset_id, max(ts) AS last_ts FROM telemetry WHERE model_id = ? GROUP BY asset_id ORDER BY asset_id`,
    params: [modelId],
  };
}

/** Alerts per day and severity since `sinceMs` (the fleet's alert load), deduplicated. */
export function alertsPerDay(sinceMs: number): SqlQuery {
  checkMs('since', sinceMs);
  return {
    sql: `SELECT date_trunc('day', ts) AS day, severity, count(*) AS alerts
FROM (SELECT alert_id, arbitrary(ts) AS ts, arbitrary(severity) AS severity FROM alerts
      WHERE ts >= CAST(? AS TIMESTAMP) GROUP BY alert_id) a
GROUP BY date_trunc('day', ts), severity ORDER BY day, severity`,
    params: [timestampText(sinceMs)],
  };
}

/** Quarantined records per reason since `sinceMs`, with one object that holds an example. */
export function quarantineByReason(sinceMs: number): SqlQuery {
  checkMs('since', sinceMs);
  return {
    sql: `SELECT reason, count(*) AS records, max(object_uri) AS example_object
FROM quarantine WHERE ts >= CAST(? AS TIMESTAMP) GROUP BY reason ORDER BY records DESC, reason`,
    params: [timestampText(sinceMs)],
  };
}

/** Daily mean and peak failure probability per asset of a model since `sinceMs`. */
export function dailyRisk(modelId: string, sinceMs: number): SqlQuery {
  checkMs('since', sinceMs);
  return {
    sql: `SELECT asset_id, date_trunc('day', ts) AS day, avg(failure_probability) AS mean_failure_probability,
       max(failure_probability) AS max_failure_probability, count_if(failure_probability >= 0.5) AS rows_over_half
FROM predictions WHERE model_id = ? AND ts >= CAST(? AS TIMESTAMP) AND ${CHAMPION_ROWS}
GROUP BY asset_id, date_trunc('day', ts) ORDER BY asset_id, day`,
    params: [modelId, timestampText(sinceMs)],
  };
}

/** Hourly mean of one sensor for one asset since `sinceMs`. */
export function hourlySensor(d: Dialect, assetId: string, sensor: string, sinceMs: number): SqlQuery {
  checkMs('since', sinceMs);
  if (!/^[a-z][a-z0-9_]*$/.test(sensor)) throw new HistoryQueryInputError(`sensor must be a lower-case sensor name, got "${sensor}"`);
  // Trino's map subscript fails on a missing key; element_at returns null. DuckDB's element_at returns a list.
  const value = d === 'athena' ? `element_at(readings, '${sensor}')` : `readings['${sensor}']`;
  return {
    sql: `SELECT date_trunc('hour', ts) AS hour, avg(${value}) AS mean, count(${value}) AS n
FROM telemetry WHERE asset_id = ? AND ts >= CAST(? AS TIMESTAMP)
GROUP BY date_trunc('hour', ts) ORDER BY hour`,
    params: [assetId, timestampText(sinceMs)],
  };
}

/**
 * The champion's and each shadow challenger's output for the same rows of an asset model since `sinceMs`
 * (`pdm models compare`): one row per (asset, seq, challenger version) that both scored, deduplicated,
 * component outputs as JSON text. At most `limit` rows, oldest first.
 */
export function shadowPairs(d: Dialect, modelId: string, sinceMs: number, limit: number): SqlQuery {
  checkMs('since', sinceMs);
  checkLimit(limit, 10_000_000);
  const j = DIALECT[d].json;
  // The champion side: one row per sample; the challenger side: one per sample and challenger version.
  const side = (role: string, byVersion: boolean) => `SELECT asset_id, seq, ${byVersion ? 'model_version' : 'arbitrary(model_version) AS model_version'},
         arbitrary(ts) AS ts, arbitrary(failure_probability) AS failure_probability,
         arbitrary(rul) AS rul, ${j('arbitrary(component_failure)')} AS component_failure
  FROM predictions
  WHERE model_id = ? AND ts >= CAST(? AS TIMESTAMP) AND ${role} AND model_version IS NOT NULL
  GROUP BY asset_id, seq${byVersion ? ', model_version' : ''}`;
  return {
    sql: `SELECT c.asset_id, c.seq, c.ts, c.model_version AS champion_version, s.model_version AS challenger_version,
       c.failure_probability AS champion_failure_probability, s.failure_probability AS challenger_failure_probability,
       c.rul AS champion_rul, s.rul AS challenger_rul,
       c.component_failure AS champion_component_failure, s.component_failure AS challenger_component_failure
FROM (${side(CHAMPION_ROWS, false)}) c
JOIN (${side(`role = 'challenger'`, true)}) s
  ON s.asset_id = c.asset_id AND s.seq = c.seq
ORDER BY c.ts, c.asset_id, c.seq, s.model_version LIMIT ${limit}`,
    params: [modelId, timestampText(sinceMs), modelId, timestampText(sinceMs)],
  };
}

/**
 * Repairs and replacements of an asset model since `fromMs`, with the component (null = the whole
 * asset): the failure evidence `pdm models compare` labels rows with, as `pdm history export` does.
 */
export function repairEvents(modelId: string, fromMs: number): SqlQuery {
  checkMs('from', fromMs);
  return {
    sql: `SELECT DISTINCT asset_id, ts, component FROM maintenance
WHERE model_id = ? AND kind IN ('repair', 'replacement') AND ts >= CAST(? AS TIMESTAMP)
ORDER BY asset_id, ts`,
    params: [modelId, timestampText(fromMs)],
  };
}

/** Asset models with shadow challenger rows since `sinceMs`. */
export function challengerModels(sinceMs: number): SqlQuery {
  checkMs('since', sinceMs);
  return {
    sql: `SELECT DISTINCT model_id FROM predictions WHERE role = 'challenger' AND ts >= CAST(? AS TIMESTAMP) ORDER BY model_id`,
    params: [timestampText(sinceMs)],
  };
}
