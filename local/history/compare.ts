/**
 * `pdm models compare`: the champion against its shadow challenger on the rows both scored, from the
 * history's `predictions` table (docs/models.md "Shadow challengers"). Per asset model, challenger
 * version and predictor: rows compared, agreement (same decision band at the champion's alert
 * thresholds), quantiles of both outputs, mean absolute difference, and, where repairs or replacements
 * have since labelled rows (the rule of `pdm history export`), PR-AUC and Brier score of each.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryQueryEngine } from '../../lambdas/adapters/history.ts';
import { findAssetModel } from '../../lambdas/core/catalog/index.ts';
import type { AssetModel } from '../../lambdas/core/catalog/types.ts';
import { challengerModels, type Dialect, lastSampleTimes, repairEvents, shadowPairs } from '../../lambdas/core/history/queries.ts';
import { modelVersion } from '../../lambdas/core/history/tables.ts';
import { failureLabel } from '../../lambdas/core/history/training.ts';
import { type BundleManifest, MANIFEST_FILE, parseManifest, type PredictorEntry } from '../../lambdas/core/model/bundle.ts';
import type { AlertThresholds } from '../../lambdas/core/model/decision.ts';
import { defaultHealthPolicy } from '../../lambdas/core/twin/health.ts';
import { defaultRiskPolicy } from '../../lambdas/core/twin/twin.ts';
import { averagePrecision } from '../../ml/evaluate/metrics.ts';
import { listVersions } from '../../ml/registry/store.ts';

export interface CompareOptions {
  /** Rows from this time on (epoch ms). @default 0 */
  readonly sinceMs?: number;
  /** Only these asset models. @default every catalog asset model with challenger rows */
  readonly assetModels?: readonly string[];
  /** Bundle whose champion thresholds and horizons apply. @default layers/model */
  readonly bundleDir?: string;
  /** Registry whose version ids name the history's model versions. @default models/ */
  readonly registryDir?: string;
  /** Paired rows read per asset model at most. @default 2,000,000 */
  readonly limit?: number;
}

export interface Distribution {
  readonly mean: number;
  readonly p05: number;
  readonly p25: number;
  readonly p50: number;
  readonly p75: number;
  readonly p95: number;
}

export interface LabelScores {
  /** Rows whose label is known (not censored). */
  readonly rows: number;
  readonly positives: number;
  /** Classifiers: PR-AUC (average precision) and Brier score; null without positives or labelled rows. */
  readonly champion: { readonly prAuc: number | null; readonly brier: number | null; readonly mae?: number | null };
  readonly challenger: { readonly prAuc: number | null; readonly brier: number | null; readonly mae?: number | null };
  /** Why there are no label figures, when there are none. */
  readonly note?: string;
}

export interface PredictorComparison {
  /** `failure`, `rul`, or `component:<name>`. */
  readonly predictor: string;
  readonly rows: number;
  /** Share of rows both put in the same decision band; bands are listed in `bands`. */
  readonly agreement: number;
  /** The band edges: a row's band is how many it reaches. */
  readonly bands: { readonly on: 'probability' | 'rul-risk'; readonly edges: readonly number[]; readonly from: string };
  readonly champion: Distribution;
  readonly challenger: Distribution;
  readonly meanAbsDiff: number;
  readonly labels: LabelScores;
}

export interface ShadowComparison {
  readonly assetModel: string;
  /** The history's `model_version` of the challenger, and its registry id when the registry knows it. */
  readonly challengerVersion: string;
  readonly challengerId: string | null;
  readonly championVersions: readonly { readonly version: string; readonly id: string | null }[];
  readonly rows: number;
  readonly from: string | null;
  readonly to: string | null;
  readonly predictors: readonly PredictorComparison[];
}

export interface CompareReport {
  readonly since: string;
  readonly comparisons: readonly ShadowComparison[];
  /** Asset models looked at that have no challenger rows. */
  readonly withoutChallenger: readonly string[];
}

interface Pair {
  readonly assetId: string;
  readonly ts: number;
  readonly championVersion: string;
  readonly challengerVersion: string;
  readonly champion: Outputs;
  readonly challenger: Outputs;
}

interface Outputs {
  readonly failure: number | null;
  readonly rul: number | null;
  readonly components: Readonly<Record<string, number>>;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const toMs = (v: unknown): number => (typeof v === 'string' ? Date.parse(`${v.replace(' ', 'T')}${/Z|[+-]\d\d:?\d\d$/.test(v) ? '' : 'Z'}`) : v instanceof Date ? v.getTime() : Number(v));
const num = (v: unknown): number | null => (v === null || v === undefined || !Number.isFinite(Number(v)) ? null : Number(v));

function components(text: unknown): Record<string, number> {
  if (text === null || text === undefined || text === '') return {};
  const parsed: unknown = typeof text === 'string' ? JSON.parse(text) : text;
  const out: Record<string, number> = {};
  if (parsed && typeof parsed === 'object') {
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/** Quantile by linear interpolation between order statistics (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export function distribution(values: readonly number[]): Distribution {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { mean, p05: quantile(s, 0.05), p25: quantile(s, 0.25), p50: quantile(s, 0.5), p75: quantile(s, 0.75), p95: quantile(s, 0.95) };
}

/** How many of the ascending `edges` a value reaches. */
export function band(value: number, edges: readonly number[]): number {
  let b = 0;
  for (const e of edges) if (value >= e) b += 1;
  return b;
}

function brier(p: readonly number[], y: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i]! - y[i]!) ** 2;
  return s / p.length;
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

interface PredictorSpec {
  readonly key: string;
  readonly read: (o: Outputs) => number | null;
  readonly kind: PredictorEntry['kind'];
  readonly entry: PredictorEntry | undefined;
  readonly component?: string;
}

function specsOf(pairs: readonly Pair[], entries: readonly PredictorEntry[]): PredictorSpec[] {
  const specs: PredictorSpec[] = [];
  const has = (read: (o: Outputs) => number | null) => pairs.some((p) => read(p.champion) !== null && read(p.challenger) !== null);
  const failure = (o: Outputs) => o.failure;
  const rul = (o: Outputs) => o.rul;
  if (has(failure)) specs.push({ key: 'failure', read: failure, kind: 'failure', entry: entries.find((e) => e.kind === 'failure') });
  if (has(rul)) specs.push({ key: 'rul', read: rul, kind: 'rul', entry: entries.find((e) => e.kind === 'rul') });
  const names = [...new Set(pairs.flatMap((p) => Object.keys(p.champion.components)))].sort();
  for (const c of names) {
    const read = (o: Outputs) => o.components[c] ?? null;
    if (!has(read)) continue;
    specs.push({
      key: `component:${c}`,
      read,
      kind: 'component-failure',
      component: c,
      entry: entries.find((e) => e.kind === 'component-failure' && e.component === c),
    });
  }
  return specs;
}

interface Evidence {
  /** Repairs and replacements per asset: time and component (null = the whole asset). */
  readonly failures: ReadonlyMap<string, readonly { readonly ts: number; readonly component: string | null }[]>;
  readonly observedUntil: ReadonlyMap<string, number>;
}

function compareOne(model: AssetModel, rows: readonly Pair[], spec: PredictorSpec, evidence: Evidence): PredictorComparison {
  const used = rows.filter((p) => spec.read(p.champion) !== null && spec.read(p.challenger) !== null);
  const a = used.map((p) => spec.read(p.champion)!);
  const b = used.map((p) => spec.read(p.challenger)!);
  const health = defaultHealthPolicy(model.clock).enter;
  const healthEdges = [health.WATCH, health.WARNING, health.CRITICAL];
  let bands: PredictorComparison['bands'];
  let toBanded: (x: number) => number;
  if (spec.kind === 'rul') {
    const horizon = defaultRiskPolicy(model.clock).rulHorizon;
    const h = model.clock === 'time' ? `${horizon / 3_600_000} h` : `${horizon} cycles`;
    bands = { on: 'rul-risk', edges: healthEdges, from: `risk = 1 - rul / ${h} (the twin's RUL risk), at the health policy's levels` };
    toBanded = (x) => Math.min(1, Math.max(0, 1 - x / horizon));
  } else {
    const t: AlertThresholds | undefined = spec.entry?.alertThresholds;
    bands = t
      ? { on: 'probability', edges: [t.watch, t.warning, t.critical], from: "the champion's alert thresholds" }
      : { on: 'probability', edges: healthEdges, from: 'the health policy (the champion ships no alert thresholds)' };
    toBanded = (x) => x;
  }
  let same = 0;
  let absDiff = 0;
  for (let i = 0; i < a.length; i++) {
    if (band(toBanded(a[i]!), bands.edges) === band(toBanded(b[i]!), bands.edges)) same += 1;
    absDiff += Math.abs(a[i]! - b[i]!);
  }
  return {
    predictor: spec.key,
    rows: used.length,
    agreement: same / used.length,
    bands,
    champion: distribution(a),
    challenger: distribution(b),
    meanAbsDiff: absDiff / used.length,
    labels: labelScores(model, used, spec, evidence),
  };
}

function labelScores(model: AssetModel, rows: readonly Pair[], spec: PredictorSpec, evidence: Evidence): LabelScores {
  const none = (note: string): LabelScores => ({ rows: 0, positives: 0, champion: { prAuc: null, brier: null }, challenger: { prAuc: null, brier: null }, note });
  if (model.clock === 'cycle') return none('no labels: a cycle-clock model fails at run ends, not at maintenance in the history');
  const failuresOf = (assetId: string) =>
    (evidence.failures.get(assetId) ?? []).filter((f) => spec.component === undefined || f.component === spec.component).map((f) => f.ts);
  if (spec.kind === 'rul') {
    // Observed RUL: time to the next repair or replacement; rows after an asset's last one are censored.
    const cap = spec.entry?.rulCap ?? Number.POSITIVE_INFINITY;
    const truth: number[] = [];
    const ea: number[] = [];
    const eb: number[] = [];
    for (const p of rows) {
      const next = failuresOf(p.assetId).find((f) => f > p.ts);
      if (next === undefined) continue;
      const t = Math.min(next - p.ts, cap);
      truth.push(t);
      ea.push(Math.abs(spec.read(p.champion)! - t));
      eb.push(Math.abs(spec.read(p.challenger)! - t));
    }
    if (truth.length === 0) return none('no labels yet: no repair or replacement followed these rows');
    const mae = (e: number[]) => e.reduce((x, y) => x + y, 0) / e.length;
    return { rows: truth.length, positives: truth.length, champion: { prAuc: null, brier: null, mae: mae(ea) }, challenger: { prAuc: null, brier: null, mae: mae(eb) } };
  }
  const horizon = spec.entry?.horizon;
  if (horizon === undefined) return none(`no labels: the bundle has no horizon for ${spec.key}`);
  const y: number[] = [];
  const pa: number[] = [];
  const pb: number[] = [];
  for (const p of rows) {
    const label = failureLabel(p.ts, failuresOf(p.assetId), evidence.observedUntil.get(p.assetId), horizon);
    if (label === null) continue;
    y.push(label);
    pa.push(spec.read(p.champion)!);
    pb.push(spec.read(p.challenger)!);
  }
  if (y.length === 0) return none('no labels yet: every row is censored (its horizon passes the end of the history)');
  const positives = y.filter((v) => v === 1).length;
  return {
    rows: y.length,
    positives,
    champion: { prAuc: finiteOrNull(averagePrecision(pa, y)), brier: brier(pa, y) },
    challenger: { prAuc: finiteOrNull(averagePrecision(pb, y)), brier: brier(pb, y) },
    ...(positives === 0 ? { note: 'no failures among the labelled rows: PR-AUC is undefined' } : {}),
  };
}

/** History model version (hash of the predictor files) → registry id, for every registered version. */
function registryIds(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const v of listVersions(dir)) {
    const version = modelVersion(v.entry.predictors.map((p) => p.sha256), sha);
    if (version !== null && !out.has(version)) out.set(version, v.id);
  }
  return out;
}

function readManifest(dir: string): BundleManifest | null {
  const path = join(dir, MANIFEST_FILE);
  return existsSync(path) ? parseManifest(readFileSync(path, 'utf8')) : null;
}

/** Reads the paired rows and the failure evidence, and compares each challenger with its champion. */
export async function compareShadow(engine: HistoryQueryEngine, dialect: Dialect, opts: CompareOptions = {}): Promise<CompareReport> {
  const root = join(import.meta.dirname, '..', '..');
  const since = opts.sinceMs ?? 0;
  const manifest = readManifest(opts.bundleDir ?? join(root, 'layers', 'model'));
  const ids = registryIds(opts.registryDir ?? join(root, 'models'));
  const wanted = opts.assetModels ?? (await modelsWithChallengers(engine, since));
  const comparisons: ShadowComparison[] = [];
  const withoutChallenger: string[] = [];
  for (const assetModel of wanted) {
    const model = findAssetModel(assetModel);
    if (!model) throw new CompareInputError(`unknown asset model "${assetModel}"`);
    const q = shadowPairs(dialect, assetModel, since, opts.limit ?? 2_000_000);
    const pairs: Pair[] = (await engine.query(q.sql, q.params)).map((r) => ({
      assetId: String(r.asset_id),
      ts: toMs(r.ts),
      championVersion: String(r.champion_version),
      challengerVersion: String(r.challenger_version),
      champion: { failure: num(r.champion_failure_probability), rul: num(r.champion_rul), components: components(r.champion_component_failure) },
      challenger: { failure: num(r.challenger_failure_probability), rul: num(r.challenger_rul), components: components(r.challenger_component_failure) },
    }));
    if (pairs.length === 0) {
      withoutChallenger.push(assetModel);
      continue;
    }
    const evidence = model.clock === 'time' ? await readEvidence(engine, assetModel, since) : { failures: new Map(), observedUntil: new Map() };
    const entries = manifest?.models[assetModel]?.predictors ?? [];
    for (const version of [...new Set(pairs.map((p) => p.challengerVersion))].sort()) {
      const rows = pairs.filter((p) => p.challengerVersion === version);
      const champions = [...new Set(rows.map((p) => p.championVersion))].sort();
      comparisons.push({
        assetModel,
        challengerVersion: version,
        challengerId: ids.get(version) ?? null,
        championVersions: champions.map((v) => ({ version: v, id: ids.get(v) ?? null })),
        rows: rows.length,
        from: new Date(rows[0]!.ts).toISOString(),
        to: new Date(rows.at(-1)!.ts).toISOString(),
        predictors: specsOf(rows, entries).map((spec) => compareOne(model, rows, spec, evidence)),
      });
    }
  }
  return { since: new Date(since).toISOString(), comparisons, withoutChallenger };
}

/** An asset model given to compare is not in the catalog. */
export class CompareInputError extends Error {
  override readonly name: string = 'CompareInputError';
}

async function modelsWithChallengers(engine: HistoryQueryEngine, sinceMs: number): Promise<string[]> {
  const { sql, params } = challengerModels(sinceMs);
  return (await engine.query(sql, params)).map((r) => String(r.model_id));
}

async function readEvidence(engine: HistoryQueryEngine, assetModel: string, sinceMs: number): Promise<Evidence> {
  const f = repairEvents(assetModel, sinceMs);
  const failures = new Map<string, { ts: number; component: string | null }[]>();
  for (const r of await engine.query(f.sql, f.params)) {
    const list = failures.get(String(r.asset_id)) ?? [];
    list.push({ ts: toMs(r.ts), component: r.component === null || r.component === undefined ? null : String(r.component) });
    failures.set(String(r.asset_id), list);
  }
  const e = lastSampleTimes(assetModel);
  const observedUntil = new Map<string, number>();
  for (const r of await engine.query(e.sql, e.params)) observedUntil.set(String(r.asset_id), toMs(r.last_ts));
  return { failures, observedUntil };
}

const f3 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : String(+x.toPrecision(3)));

/** A value of a predictor for people: RUL of a time-clock model in hours, the rest as it is. */
function shown(model: AssetModel | undefined, predictor: string, x: number | null | undefined): string {
  if (x === null || x === undefined) return '—';
  return predictor === 'rul' && model?.clock === 'time' ? `${f3(x / 3_600_000)}h` : f3(x);
}

/** The report as terminal lines. */
export function formatCompare(report: CompareReport): string[] {
  const lines: string[] = [];
  if (report.comparisons.length === 0) {
    lines.push(`no challenger rows since ${report.since}: shadow a version (pdm models shadow <version>) and let the features function run`);
  }
  for (const c of report.comparisons) {
    const model = findAssetModel(c.assetModel);
    const champions = c.championVersions.map((v) => `${v.id ?? 'unregistered'} (${v.version})`).join(', ');
    lines.push(`${c.assetModel}: challenger ${c.challengerId ?? 'unregistered'} (${c.challengerVersion}) vs champion ${champions}`);
    lines.push(`  ${c.rows} rows scored by both, ${c.from} .. ${c.to}`);
    for (const p of c.predictors) {
      const d = (x: Distribution) => `${shown(model, p.predictor, x.p05)} / ${shown(model, p.predictor, x.p50)} / ${shown(model, p.predictor, x.p95)}`;
      lines.push(`  ${p.predictor}: ${p.rows} rows, agreement ${(p.agreement * 100).toFixed(1)} % (bands at ${p.bands.edges.map(f3).join(', ')} on ${p.bands.on}: ${p.bands.from})`);
      lines.push(`    p05 / p50 / p95   champion ${d(p.champion)}   challenger ${d(p.challenger)}   mean |Δ| ${shown(model, p.predictor, p.meanAbsDiff)}`);
      const l = p.labels;
      if (l.rows === 0) lines.push(`    labels: ${l.note ?? 'no labels yet'}`);
      else if (p.predictor === 'rul') {
        lines.push(`    labels: ${l.rows} rows with an observed next repair; MAE champion ${shown(model, 'rul', l.champion.mae)}, challenger ${shown(model, 'rul', l.challenger.mae)}`);
      } else {
        lines.push(
          `    labels: ${l.rows} rows (${l.positives} failures within the horizon): PR-AUC champion ${f3(l.champion.prAuc)}, challenger ${f3(l.challenger.prAuc)}; Brier champion ${f3(l.champion.brier)}, challenger ${f3(l.challenger.brier)}${l.note ? ` (${l.note})` : ''}`,
        );
      }
    }
  }
  if (report.withoutChallenger.length > 0) lines.push(`no challenger rows: ${report.withoutChallenger.join(', ')}`);
  return lines;
}
