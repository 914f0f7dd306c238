/**
 * `pdm drift`: PSI of each asset model's recent feature vectors in the history store (local Parquet via
 * DuckDB, or Athena) against the champion bundle's training reference, with the core functions the
 * features function uses. The window ends at the newest feature row of the asset model.
 */
import type { Command } from 'commander';
import { findAssetModel } from '../../lambdas/core/catalog/index.ts';
import {
  assetModelDrift,
  compileReference,
  countVectors,
  DEFAULT_MIN_COUNT,
  DEFAULT_PSI_THRESHOLD,
  DEFAULT_WINDOW_HOURS,
  type DriftReport,
  emptyCounts,
  hourOf,
  minHoursOf,
} from '../../lambdas/core/drift/index.ts';
import { featureNames } from '../../lambdas/core/features/index.ts';
import { type Dialect, trainingFeatures } from '../../lambdas/core/history/queries.ts';
import { parseVectorText } from '../../lambdas/core/history/training.ts';
import type { ModelBundle } from '../../lambdas/core/model/bundle.ts';
import type { HistoryQueryEngine } from '../../lambdas/adapters/history.ts';
import { DEFAULT_BUNDLE_DIR, readBundle } from '../../ml/bundle/read.ts';
import { openHistory } from './source.ts';

const HOUR = 3_600_000;
const toMs = (v: unknown): number => (typeof v === 'string' ? Date.parse(v) : v instanceof Date ? v.getTime() : Number(v));

export class DriftArgumentError extends Error {
  override readonly name: string = 'DriftArgumentError';
}

export interface HistoryDrift extends DriftReport {
  readonly window: { readonly hours: number; readonly from: string | null; readonly to: string | null };
}

/** One report per asset model of the bundle that has a reference. */
export async function historyDrift(
  engine: HistoryQueryEngine,
  dialect: Dialect,
  bundle: ModelBundle,
  opts: { windowHours?: number; minCount?: number } = {},
): Promise<HistoryDrift[]> {
  const hours = opts.windowHours ?? DEFAULT_WINDOW_HOURS;
  const out: HistoryDrift[] = [];
  for (const [id, entry] of [...bundle.models].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const model = findAssetModel(id);
    if (!entry.reference || !model) continue;
    const compiled = compileReference(entry.reference, featureNames(model));
    const counts = emptyCounts(entry.reference);
    const [last] = await engine.query('SELECT max(ts) AS t FROM features WHERE model_id = ?', [id]);
    const end = last?.t === null || last?.t === undefined ? Number.NaN : toMs(last.t);
    let window: HistoryDrift['window'] = { hours, from: null, to: null };
    if (Number.isFinite(end)) {
      const from = end - hours * HOUR;
      const q = trainingFeatures(dialect, id, from, end + 1);
      const rows = await engine.query(q.sql, q.params);
      const parsed = rows.map((r) => ({ t: toMs(r.ts), v: parseVectorText(r.vector).map((v) => v ?? Number.NaN) })).filter((r) => r.v.length > 0);
      countVectors(compiled, parsed.map((r) => r.v), counts);
      counts.hours = new Set(parsed.map((r) => hourOf(r.t))).size;
      window = { hours, from: new Date(from).toISOString(), to: new Date(end).toISOString() };
    }
    out.push({ ...assetModelDrift(id, entry.reference, counts, { minCount: opts.minCount ?? DEFAULT_MIN_COUNT, minHours: minHoursOf(hours) }), window });
  }
  return out;
}

function hoursArg(text: string): number {
  const m = /^(\d+)\s*(h|d)?$/.exec(text.trim());
  if (!m) throw new DriftArgumentError(`--window: expected hours like 24h or days like 7d, got "${text}"`);
  const h = Number(m[1]) * (m[2] === 'd' ? 24 : 1);
  if (h < 1 || h > 744) throw new DriftArgumentError(`--window: 1 h … 31 d, got ${h} h`);
  return h;
}

function table(reports: readonly HistoryDrift[], threshold: number): string {
  const lines: string[] = [];
  for (const r of reports) {
    const psi = r.psi === null ? `n/a (${r.rows} rows: fewer than the minimum, or the window not yet covered)` : `${r.psi.toFixed(3)}${r.psi >= threshold ? `  ≥ ${threshold}: DRIFT` : ''}`;
    lines.push(`${r.assetModel}  PSI ${psi}  rows ${r.rows}  window ${r.window.from ?? '–'} → ${r.window.to ?? '–'}`);
    for (const f of r.features) lines.push(`  ${f.feature.padEnd(28)} ${f.psi === null ? '   n/a' : f.psi.toFixed(3).padStart(6)}`);
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('drift')
    .description("per asset model and top feature, the PSI of the history's recent feature vectors against the champion bundle's training reference (docs/drift.md)")
    .option('--data-dir <dir>', 'a local run (Parquet history under <dir>/history)')
    .option('--stage <name>', 'a deployed stage (Athena)')
    .option('--region <region>', 'AWS region of the stage')
    .option('--window <hours>', 'window ending at the newest feature row: 24h, 7d …', '24h')
    .option('--min-count <n>', 'rows a window needs for a PSI', String(DEFAULT_MIN_COUNT))
    .option('--model-dir <dir>', 'champion model bundle', DEFAULT_BUNDLE_DIR)
    .option('--json', 'print JSON')
    .action(async (opts: { dataDir?: string; stage?: string; region?: string; window: string; minCount: string; modelDir: string; json?: boolean }) => {
      const minCount = Number(opts.minCount);
      if (!Number.isInteger(minCount) || minCount < 1) throw new DriftArgumentError(`--min-count: a positive integer, got ${opts.minCount}`);
      const windowHours = hoursArg(opts.window);
      const bundle = readBundle(opts.modelDir);
      const history = await openHistory({
        ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
        ...(opts.stage !== undefined ? { stage: opts.stage } : {}),
        ...(opts.region !== undefined ? { region: opts.region } : {}),
      });
      try {
        const reports = await historyDrift(history.engine, history.dialect, bundle, { windowHours, minCount });
        const threshold = DEFAULT_PSI_THRESHOLD;
        process.stdout.write(opts.json ? `${JSON.stringify({ threshold, minCount, models: reports }, null, 2)}\n` : `${table(reports, threshold)}\n`);
      } finally {
        await history.close();
      }
    });
}
