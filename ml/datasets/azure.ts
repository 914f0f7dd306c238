/**
 * Microsoft Azure PdM loader (telemetry slice, errors, maintenance, failures, machines) and the bridge to
 * the product: each machine's history becomes telemetry samples, device events (the error log, as
 * `pdm.event.v1` would carry it) and maintenance events, replayed through `replayFeatures` so training
 * sees exactly the vectors the feature Lambda serves.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AssetInfo } from '../../lambdas/core/catalog/types.ts';
import { INDUSTRIAL_MACHINE } from '../../lambdas/core/catalog/models.ts';
import { type ReplayEvent, replayFeatures } from '../features/replay.ts';

export const HOUR_MS = 3_600_000;

/** File names inside the data directory. */
export const AZURE_FILES = {
  telemetry: 'PdM_telemetry_machines001-020_2015-01-01_to_2015-04-01.csv',
  errors: 'PdM_errors.csv',
  maint: 'PdM_maint.csv',
  failures: 'PdM_failures.csv',
  machines: 'PdM_machines.csv',
} as const;

export const AZURE_COMPONENTS = ['comp1', 'comp2', 'comp3', 'comp4'] as const;
export const AZURE_ERRORS = ['error1', 'error2', 'error3', 'error4', 'error5'] as const;
export const AZURE_SENSORS = ['volt', 'rotate', 'pressure', 'vibration'] as const;

export interface TelemetryRow {
  readonly machineId: number;
  readonly ts: number;
  readonly readings: Readonly<Record<(typeof AZURE_SENSORS)[number], number>>;
}

/** An error, maintenance or failure record: `what` is the errorID or the component. */
export interface MachineEvent {
  readonly machineId: number;
  readonly ts: number;
  readonly what: string;
}

export interface MachineInfo {
  readonly machineId: number;
  readonly model: string;
  readonly age: number;
}

export interface AzureData {
  readonly telemetry: readonly TelemetryRow[];
  readonly errors: readonly MachineEvent[];
  readonly maint: readonly MachineEvent[];
  readonly failures: readonly MachineEvent[];
  readonly machines: readonly MachineInfo[];
  /** sha256 (hex) over the five files' bytes, in AZURE_FILES order. */
  readonly sha256: string;
  readonly dataDir: string;
}

/** A table is not in the expected shape; `line` is 1-based (the header is line 1). */
export class AzureParseError extends Error {
  override name = 'AzureParseError';
  constructor(
    readonly table: string,
    readonly line: number,
    reason: string,
  ) {
    super(`Azure PdM ${table} line ${line}: ${reason}`);
  }
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** "YYYY-MM-DD HH:MM:SS" as UTC epoch ms; NaN when the text is not in that form. */
export function parseAzureTime(s: string): number {
  const m = DATETIME.exec(s.trim());
  if (!m) return Number.NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

function table(text: string, name: string, header: readonly string[]): string[][] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) throw new AzureParseError(name, 1, 'empty file, expected a header');
  const got = lines[0]!.split(',').map((h) => h.trim());
  if (got.join(',') !== header.join(',')) {
    throw new AzureParseError(name, 1, `header must be "${header.join(',')}", got "${got.join(',')}"`);
  }
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== header.length) {
      throw new AzureParseError(name, i + 2, `expected ${header.length} fields, got ${cells.length}`);
    }
    return cells;
  });
}

function time(table: string, line: number, s: string): number {
  const t = parseAzureTime(s);
  if (!Number.isFinite(t)) throw new AzureParseError(table, line, `datetime must be YYYY-MM-DD HH:MM:SS, got "${s}"`);
  return t;
}

function machineId(table: string, line: number, s: string): number {
  const v = Number(s);
  if (!Number.isInteger(v) || v <= 0) throw new AzureParseError(table, line, `machineID must be a positive integer, got "${s}"`);
  return v;
}

/** Hourly telemetry: datetime,machineID,volt,rotate,pressure,vibration. */
export function parseTelemetry(text: string): TelemetryRow[] {
  const name = 'telemetry';
  return table(text, name, ['datetime', 'machineID', ...AZURE_SENSORS]).map((c, i) => {
    const line = i + 2;
    const v = c.slice(2).map(Number);
    v.forEach((x, k) => {
      if (!Number.isFinite(x) || c[2 + k] === '') {
        throw new AzureParseError(name, line, `${AZURE_SENSORS[k]} is not a number: "${c[2 + k]}"`);
      }
    });
    return {
      ts: time(name, line, c[0]!),
      machineId: machineId(name, line, c[1]!),
      readings: { volt: v[0]!, rotate: v[1]!, pressure: v[2]!, vibration: v[3]! },
    };
  });
}

function events(text: string, name: string, column: string, allowed: readonly string[]): MachineEvent[] {
  return table(text, name, ['datetime', 'machineID', column]).map((c, i) => {
    const line = i + 2;
    if (!allowed.includes(c[2]!)) {
      throw new AzureParseError(name, line, `${column} must be one of ${allowed.join('/')}, got "${c[2]}"`);
    }
    return { ts: time(name, line, c[0]!), machineId: machineId(name, line, c[1]!), what: c[2]! };
  });
}

export const parseErrors = (text: string) => events(text, 'errors', 'errorID', AZURE_ERRORS);
export const parseMaint = (text: string) => events(text, 'maint', 'comp', AZURE_COMPONENTS);
export const parseFailures = (text: string) => events(text, 'failures', 'failure', AZURE_COMPONENTS);

export function parseMachines(text: string): MachineInfo[] {
  return table(text, 'machines', ['machineID', 'model', 'age']).map((c, i) => {
    const age = Number(c[2]);
    if (!Number.isFinite(age) || age < 0 || c[2] === '') {
      throw new AzureParseError('machines', i + 2, `age must be a non-negative number, got "${c[2]}"`);
    }
    return { machineId: machineId('machines', i + 2, c[0]!), model: c[1]!, age };
  });
}

/** Reads the five tables from `dataDir`. */
export function loadAzure(dataDir: string): AzureData {
  const hash = createHash('sha256');
  const read = (f: string) => {
    const bytes = readFileSync(join(dataDir, f));
    hash.update(bytes);
    return bytes.toString('utf8');
  };
  const telemetry = parseTelemetry(read(AZURE_FILES.telemetry));
  const errors = parseErrors(read(AZURE_FILES.errors));
  const maint = parseMaint(read(AZURE_FILES.maint));
  const failures = parseFailures(read(AZURE_FILES.failures));
  const machines = parseMachines(read(AZURE_FILES.machines));
  return { telemetry, errors, maint, failures, machines, sha256: hash.digest('hex'), dataDir };
}

/** Machine ids present in the telemetry, ascending. */
export function telemetryMachines(data: AzureData): number[] {
  return [...new Set(data.telemetry.map((r) => r.machineId))].sort((a, b) => a - b);
}

/** The product's registration of a machine: assetId `machine-<id>`, model and age as attributes. */
export function machineAsset(info: MachineInfo | undefined, id: number): AssetInfo {
  return {
    assetId: `machine-${id}`,
    siteId: 'azure-pdm',
    modelId: 'industrial-machine',
    attributes: info ? { model: info.model, age: info.age } : {},
  };
}

/**
 * Failures with no replacement of the same component at the same hour in PdM_maint. The data set's
 * documentation says every failure is also a maintenance record; the evaluation checks it rather than
 * assuming it, because a missing replacement would leave `since_maint` running through a failure.
 */
export function failuresWithoutReplacement(data: AzureData): MachineEvent[] {
  const keys = new Set(data.maint.map((m) => `${m.machineId}|${m.ts}|${m.what}`));
  return data.failures.filter((f) => !keys.has(`${f.machineId}|${f.ts}|${f.what}`));
}

/** Severity the replay gives Azure PdM errors: the data set calls them non-breaking. */
export const AZURE_ERROR_SEVERITY = 'warning' as const;

/**
 * A machine's error log as device events, in time order (code order within an hour), up to `end`.
 * Each event's seq is its 1-based position in the machine's whole log, so it does not depend on the
 * slice replayed, and the event's component is the one the catalog maps its code to.
 */
export function machineErrorEvents(data: AzureData, id: number, end = Number.POSITIVE_INFINITY): ReplayEvent[] {
  const codes = INDUSTRIAL_MACHINE.events ?? {};
  return data.errors
    .filter((e) => e.machineId === id)
    .sort((a, b) => a.ts - b.ts || a.what.localeCompare(b.what))
    .map((e, i) => ({ e, seq: i + 1 }))
    .filter(({ e }) => e.ts <= end)
    .map(({ e, seq }) => {
      const component = codes[e.what]?.component;
      return {
        kind: 'event' as const,
        ts: e.ts,
        seq,
        code: e.what,
        severity: AZURE_ERROR_SEVERITY,
        ...(component !== undefined ? { component } : {}),
      };
    });
}

/**
 * A machine's history as replay events, in arrival order: every maintenance record and error up to the
 * end of its telemetry (2014 maintenance included, so `since_maint_*` is known from the first hour) and
 * every telemetry hour. At equal timestamps the errors come first, then the sample, then maintenance:
 * an error "rounded to the hour" happened during that hour, so the hour's row counts it (the Modelling
 * Guide counts errors over (t − 24 h, t] too); the reading of the failure hour was taken on the worn
 * part, and the replacement is logged after it. A failure is a replacement too; 743 of the 761 are
 * also in PdM_maint at the same hour, and the other 18 (all 2015-01-02 03:00, see
 * {@link failuresWithoutReplacement}) get their replacement from the failure record.
 */
export function machineEvents(data: AzureData, id: number): ReplayEvent[] {
  const tele = data.telemetry.filter((r) => r.machineId === id).sort((a, b) => a.ts - b.ts);
  const end = tele.length > 0 ? tele[tele.length - 1]!.ts : Number.NEGATIVE_INFINITY;
  // Errors older than the longest window before the first hour cannot reach any feature.
  const from = tele.length > 0 ? tele[0]!.ts - INDUSTRIAL_MACHINE.windows.long : Number.POSITIVE_INFINITY;
  const errors = machineErrorEvents(data, id, end).filter((e) => e.ts > from);
  const keys = new Set<string>();
  const records: MachineEvent[] = [];
  for (const m of [...data.maint, ...data.failures]) {
    const key = `${m.ts}|${m.what}`;
    if (m.machineId !== id || m.ts > end || keys.has(key)) continue;
    keys.add(key);
    records.push(m);
  }
  const maint = records.sort((a, b) => a.ts - b.ts || a.what.localeCompare(b.what));
  const out: ReplayEvent[] = [];
  let j = 0;
  let k = 0;
  tele.forEach((r, i) => {
    while (j < maint.length && maint[j]!.ts < r.ts) {
      const m = maint[j++]!;
      while (k < errors.length && errors[k]!.ts <= m.ts) out.push(errors[k++]!);
      out.push({ kind: 'maintenance', ts: m.ts, action: 'replacement', component: m.what });
    }
    while (k < errors.length && errors[k]!.ts <= r.ts) out.push(errors[k++]!);
    out.push({ kind: 'sample', ts: r.ts, seq: i + 1, readings: r.readings });
  });
  while (j < maint.length) {
    const m = maint[j++]!;
    while (k < errors.length && errors[k]!.ts <= m.ts) out.push(errors[k++]!);
    out.push({ kind: 'maintenance', ts: m.ts, action: 'replacement', component: m.what });
  }
  while (k < errors.length) out.push(errors[k++]!);
  return out;
}

/**
 * Point-in-time labels: row i is positive when an event time f satisfies `t_i < f ≤ t_i + horizon`.
 * The event of the row's own hour is not in its future, so it is not counted; features of row i use
 * data ≤ t_i only, labels use only the future. `times` and `events` need not be sorted.
 */
export function labelWithin(times: ArrayLike<number>, events: readonly number[], horizon: number): Uint8Array {
  return Uint8Array.from(timeToNext(times, events), (dt) => (dt <= horizon ? 1 : 0));
}

/** Time from each row to the first event strictly after it (ms), +∞ when none follows. */
export function timeToNext(times: ArrayLike<number>, events: readonly number[]): Float64Array {
  const ev = [...events].sort((a, b) => a - b);
  const out = new Float64Array(times.length);
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    let lo = 0;
    let hi = ev.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ev[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    out[i] = lo < ev.length ? ev[lo]! - t : Number.POSITIVE_INFINITY;
  }
  return out;
}

/**
 * Error counts per type over exactly (t − window, t], as the Modelling Guide computes them. The product
 * counts errors itself (`events_error<k>_<window>` features from `pdm.event.v1`); this exact count is
 * the evaluation's independent reference for them.
 */
export function errorCounts(
  times: ArrayLike<number>,
  errors: readonly MachineEvent[],
  window: number,
): Float32Array[] {
  return AZURE_ERRORS.map((e) => {
    const ev = errors
      .filter((x) => x.what === e)
      .map((x) => x.ts)
      .sort((a, b) => a - b);
    const out = new Float32Array(times.length);
    for (let i = 0; i < times.length; i++) {
      const t = times[i]!;
      let c = 0;
      for (const x of ev) if (x > t - window && x <= t) c++;
      out[i] = c;
    }
    return out;
  });
}

/**
 * Feature-engine outputs that describe the recording rather than the machine: every replay starts at the
 * slice's first hour, so operating age and sample count are the calendar date in disguise (they would
 * let a time split extrapolate on the date, and in the field they measure time since onboarding).
 */
export const AZURE_EXCLUDED_FEATURES = ['op_age_h', 'samples_seen'] as const;

export type AzureTarget = (typeof AZURE_COMPONENTS)[number] | 'any';
export const AZURE_TARGETS: readonly AzureTarget[] = [...AZURE_COMPONENTS, 'any'];

/** Every telemetry hour of the chosen machines as the product featurises it, with labels. */
export interface AzureDesign {
  /** The feature engine's names, the column order of `x`. */
  readonly names: readonly string[];
  /** Row-major n × names.length feature vectors (float64, as the engine returns them). */
  readonly x: Float64Array;
  readonly n: number;
  readonly t: Float64Array;
  readonly machine: Int32Array;
  /** Per target, 1 when that component (any component for `any`) fails in (t, t + horizon]. */
  readonly labels: Readonly<Record<AzureTarget, Uint8Array>>;
  /** ms from t to the next failure of any component (+∞ when none follows). */
  readonly timeToFailure: Float64Array;
  /** Failures of the chosen machines (all times). */
  readonly failures: readonly MachineEvent[];
  readonly horizon: number;
  readonly quarantined: number;
}

/**
 * Replays each machine (telemetry + maintenance) through the product's feature code and labels every row
 * from PdM_failures. `machines` defaults to those present in the telemetry.
 */
export function buildAzureDesign(
  data: AzureData,
  opts: { machines?: readonly number[]; horizon?: number } = {},
): AzureDesign {
  const horizon = opts.horizon ?? 24 * HOUR_MS;
  const ids = opts.machines ?? telemetryMachines(data);
  const info = new Map(data.machines.map((m) => [m.machineId, m]));
  const parts: { t: number[]; vectors: Float64Array[]; id: number }[] = [];
  let names: readonly string[] = [];
  let quarantined = 0;
  for (const id of ids) {
    const res = replayFeatures(INDUSTRIAL_MACHINE, machineAsset(info.get(id), id), machineEvents(data, id));
    names = res.names;
    quarantined += res.quarantined;
    parts.push({ t: res.rows.map((r) => r.t), vectors: res.rows.map((r) => r.vector), id });
  }
  const f = names.length;
  const n = parts.reduce((a, p) => a + p.t.length, 0);
  const x = new Float64Array(n * f);
  const t = new Float64Array(n);
  const machine = new Int32Array(n);
  const labels = Object.fromEntries(AZURE_TARGETS.map((c) => [c, new Uint8Array(n)])) as Record<
    AzureTarget,
    Uint8Array
  >;
  const timeToFailure = new Float64Array(n);
  const idSet = new Set(ids);
  const failures = data.failures.filter((e) => idSet.has(e.machineId));
  let o = 0;
  for (const p of parts) {
    const mine = failures.filter((e) => e.machineId === p.id);
    for (const c of AZURE_TARGETS) {
      const ev = mine.filter((e) => c === 'any' || e.what === c).map((e) => e.ts);
      labels[c].set(labelWithin(p.t, ev, horizon), o);
    }
    timeToFailure.set(
      timeToNext(
        p.t,
        mine.map((e) => e.ts),
      ),
      o,
    );
    p.vectors.forEach((v, i) => {
      x.set(v, (o + i) * f);
      t[o + i] = p.t[i]!;
      machine[o + i] = p.id;
    });
    o += p.t.length;
  }
  return { names, x, n, t, machine, labels, timeToFailure, failures, horizon, quarantined };
}

/**
 * Float32 matrix of the given rows and columns, in `columns` order. Infinite values (none are expected
 * from the engine) become NaN so the trainer treats them as missing.
 */
export function designMatrix(
  d: AzureDesign,
  rows: ArrayLike<number>,
  columns: readonly string[],
  extra: readonly Float32Array[] = [],
): Float32Array {
  const f = d.names.length;
  const idx = columns.map((c) => {
    const k = d.names.indexOf(c);
    if (k < 0) throw new Error(`feature "${c}" is not produced by the feature engine`);
    return k;
  });
  const w = idx.length + extra.length;
  const out = new Float32Array(rows.length * w);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    for (let j = 0; j < idx.length; j++) {
      const v = d.x[r * f + idx[j]!]!;
      out[i * w + j] = Number.isFinite(v) || Number.isNaN(v) ? v : Number.NaN;
    }
    for (let j = 0; j < extra.length; j++) out[i * w + idx.length + j] = extra[j]![r]!;
  }
  return out;
}

/** Rows whose t satisfies `pred`, as indices. */
export function rowsWhere(d: AzureDesign, pred: (t: number, i: number) => boolean): Uint32Array {
  const out: number[] = [];
  for (let i = 0; i < d.n; i++) if (pred(d.t[i]!, i)) out.push(i);
  return Uint32Array.from(out);
}
