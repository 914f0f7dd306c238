/**
 * The dashboard's "Models & drift" panel (docs/dashboard.md): per asset model, which models serve it,
 * the PSI of its current window against the bundle's training reference (the core's `DriftReport`,
 * consumed as it comes: a null PSI with its reason, per-feature rows), and the drift alarms. Sources
 * compute it their own way (the local runtime from its live drift window, a deployed stage from the
 * history tables as `pdm drift --stage` does); the helpers here turn their outputs into the panel, and
 * {@link DriftPanelCache} keeps the server from computing it more than once a minute.
 */
import { existsSync, readFileSync } from 'node:fs';
import { bundleModelVersions } from '../../lambdas/adapters/history.ts';
import type { DriftWindowReport } from '../../lambdas/adapters/drift.ts';
import type { DriftCounterStore } from '../../lambdas/adapters/ports.ts';
import { type DriftCounts, type DriftReport, type ModelDriftDetectedDetail, mergeCounts } from '../../lambdas/core/drift/index.ts';
import type { ModelBundle } from '../../lambdas/core/model/bundle.ts';
import { DEFAULT_REGISTRY_DIR, listVersions, readAliases } from '../../ml/registry/store.ts';
import type { HistoryDrift } from '../history/drift.ts';
import type { ChampionInfo, DriftAlarmEntry, DriftAlarms, DriftModelPanel, DriftPanel, DriftPanelData } from './source.ts';

const HOUR = 3_600_000;

/** How often the server recomputes the panel at most. */
export const DRIFT_PANEL_TTL_MS = 60_000;

/**
 * Per asset model of the bundle, its version: the history's `model_version` hash, the manifest's
 * `createdAt`, and the registry version with the same predictor files (by sha256) when the registry
 * (`models/`, `pdm models list`) has one. A registry that cannot be read leaves the version unknown:
 * the panel still shows the bundle's own identity.
 */
export function championsOf(bundle: ModelBundle, registryDir: string | null = DEFAULT_REGISTRY_DIR): Map<string, ChampionInfo> {
  const hashes = bundleModelVersions(bundle);
  let versions: ReturnType<typeof listVersions> = [];
  let champions: Readonly<Record<string, string>> = {};
  if (registryDir !== null && existsSync(registryDir)) {
    try {
      versions = listVersions(registryDir);
      champions = readAliases(registryDir).champions;
    } catch {
      versions = [];
      champions = {};
    }
  }
  const out = new Map<string, ChampionInfo>();
  for (const [id, entry] of Object.entries(bundle.manifest.models)) {
    const files = entry.predictors.map((p) => p.sha256).join(',');
    const registryChampion = champions[id] ?? null;
    // Versions can share files (a re-registration): the champion when it is one of them, else the newest.
    const matches = versions.filter((v) => v.assetModel === id && v.entry.predictors.map((p) => p.sha256).join(',') === files);
    const match = matches.find((v) => v.id === registryChampion) ?? matches.at(-1);
    out.set(id, {
      version: match?.id ?? null,
      champion: match ? match.id === registryChampion : null,
      registryChampion,
      modelHash: hashes.get(id) ?? null,
      bundleCreatedAt: bundle.manifest.createdAt,
    });
  }
  return out;
}

/** Why a report has no PSI, in words: the core's own reason when it gives one, else the count rule. */
export function reasonOf(report: Pick<DriftReport, 'psi' | 'rows'> & { readonly reason?: unknown }, minCount: number): string | null {
  if (report.psi !== null) return null;
  if (typeof report.reason === 'string' && report.reason !== '') return report.reason;
  if (report.rows === 0) return 'not enough data: no rows in the window';
  return `not enough data: ${report.rows} rows, the minimum is ${minCount}`;
}

/** The panel row of one asset model from a core report (or none yet) and its window. */
export function modelPanel(
  assetModel: string,
  champion: ChampionInfo,
  report: (DriftReport & { readonly reason?: unknown }) | null,
  window: DriftModelPanel['window'],
  minCount: number,
): DriftModelPanel {
  if (!report) {
    return { assetModel, champion, psi: null, feature: null, reason: 'no drift window read yet', rows: 0, minCount, window, features: [] };
  }
  return {
    assetModel,
    champion,
    psi: report.psi,
    feature: report.feature,
    reason: reasonOf(report, minCount),
    rows: report.rows,
    minCount,
    window,
    features: report.features.map((f) => ({ feature: f.feature, psi: f.psi })),
  };
}

/** The ISO bounds of a window of hour buckets, `fromHour` … `toHour` inclusive. */
export function hourWindow(w: { readonly hours: number; readonly fromHour: number; readonly toHour: number }): DriftModelPanel['window'] {
  return { hours: w.hours, from: new Date(w.fromHour * HOUR).toISOString(), to: new Date((w.toHour + 1) * HOUR).toISOString() };
}

/** An alarm event as the panel lists it; its time is the breaching window's newest hour. */
export function alarmEntry(d: ModelDriftDetectedDetail): DriftAlarmEntry {
  return {
    at: new Date(d.window.toHour * HOUR).toISOString(),
    assetModel: d.assetModel,
    psi: d.psi,
    feature: d.feature,
    rows: d.rows,
    threshold: d.threshold,
  };
}

/**
 * The details of `drift-alarms.jsonl` (the local runtime appends one event per line), oldest first. A
 * missing file has none; a line that is not such an event (a write cut short) is skipped.
 */
export function readDriftAlarms(path: string): ModelDriftDetectedDetail[] {
  if (!existsSync(path)) return [];
  const out: ModelDriftDetectedDetail[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const d = (JSON.parse(line) as { detail?: Partial<ModelDriftDetectedDetail> }).detail;
      if (d && typeof d.assetModel === 'string' && typeof d.psi === 'number' && typeof d.feature === 'string' && typeof d.window?.toHour === 'number') {
        out.push(d as ModelDriftDetectedDetail);
      }
    } catch {
      continue;
    }
  }
  return out;
}

/**
 * The name of a deployed stage's drift alarm of an asset model: `driftAlarmName` of `lib/drift.ts`
 * (importing it would load the CDK into the dashboard; a test keeps the two equal).
 */
export const cloudWatchDriftAlarm = (stage: string, assetModel: string): string => `pdm-${stage}-drift-${assetModel}`;

/** Drift counters in memory (the in-process dashboard source): the DynamoDB store's sums, without the table. */
export class MemoryDriftCounterStore implements DriftCounterStore {
  private readonly buckets = new Map<string, Map<number, DriftCounts>>();

  async add(key: string, hour: number, counts: DriftCounts): Promise<void> {
    if (counts.rows === 0) return;
    let byHour = this.buckets.get(key);
    if (!byHour) this.buckets.set(key, (byHour = new Map()));
    const have = byHour.get(hour);
    if (have) mergeCounts(have, counts);
    else byHour.set(hour, { rows: counts.rows, bins: counts.bins.map((b) => [...b]) });
  }

  async read(key: string, fromHour: number, toHour: number, empty: DriftCounts): Promise<DriftCounts> {
    // Hours with rows, as the DynamoDB store counts them: the window-coverage rule needs them (docs/drift.md).
    let hours = 0;
    for (const [h, c] of this.buckets.get(key) ?? []) {
      if (h < fromHour || h > toHour) continue;
      mergeCounts(empty, c);
      if (c.rows > 0) hours += 1;
    }
    return { ...empty, hours };
  }
}

/**
 * The panel, computed at most once per `ttlMs`: requests inside that time get the stored answer, and
 * requests while a computation runs share it. A failed computation is not stored (the next request
 * tries again). `computedAt` tells the page how old the numbers are.
 */
export class DriftPanelCache {
  private value: { at: number; panel: DriftPanel } | null = null;
  private running: Promise<DriftPanel> | null = null;
  /** Computations started, for tests and logs. */
  computations = 0;

  constructor(
    private readonly load: () => Promise<DriftPanelData>,
    private readonly ttlMs: number = DRIFT_PANEL_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<DriftPanel> {
    if (this.value && this.now() - this.value.at < this.ttlMs) return Promise.resolve(this.value.panel);
    if (this.running) return this.running;
    const at = this.now();
    this.computations += 1;
    this.running = this.load()
      .then((data) => {
        const panel: DriftPanel = { ...data, computedAt: new Date(at).toISOString() };
        this.value = { at, panel };
        return panel;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }
}

/** Asset models of the bundle that have a drift reference, sorted. */
const referenced = (bundle: ModelBundle): string[] =>
  [...bundle.models].filter(([, e]) => e.reference).map(([id]) => id).sort();

const championOrBundle = (bundle: ModelBundle, champions: ReadonlyMap<string, ChampionInfo>, id: string): ChampionInfo =>
  champions.get(id) ?? { version: null, champion: null, registryChampion: null, modelHash: null, bundleCreatedAt: bundle.manifest.createdAt };

/**
 * The panel from a live drift window (the features function's `DriftMonitor` reports, newest per asset
 * model) and the emulated alarm's events (oldest first, as they fired).
 */
export function windowPanel(opts: {
  readonly bundle: ModelBundle;
  readonly champions: ReadonlyMap<string, ChampionInfo>;
  readonly latest: ReadonlyMap<string, DriftWindowReport>;
  readonly windowHours: number;
  readonly minCount: number;
  readonly threshold: number;
  readonly alarms: readonly ModelDriftDetectedDetail[];
}): DriftPanelData {
  return {
    threshold: opts.threshold,
    basis: 'drift-window',
    models: referenced(opts.bundle).map((id) => {
      const r = opts.latest.get(id) ?? null;
      const window = r ? hourWindow(r.window) : { hours: opts.windowHours, from: null, to: null };
      return modelPanel(id, championOrBundle(opts.bundle, opts.champions, id), r, window, opts.minCount);
    }),
    alarms: { kind: 'events', items: opts.alarms.map(alarmEntry).reverse() },
  };
}

/** The panel from `historyDrift` (the `pdm drift` computation over the history tables). */
export function historyPanel(opts: {
  readonly bundle: ModelBundle;
  readonly champions: ReadonlyMap<string, ChampionInfo>;
  readonly reports: readonly HistoryDrift[];
  readonly windowHours: number;
  readonly minCount: number;
  readonly threshold: number;
  readonly alarms: DriftAlarms;
}): DriftPanelData {
  const byModel = new Map(opts.reports.map((r) => [r.assetModel, r]));
  return {
    threshold: opts.threshold,
    basis: 'history',
    models: referenced(opts.bundle).map((id) => {
      const r = byModel.get(id) ?? null;
      return modelPanel(id, championOrBundle(opts.bundle, opts.champions, id), r, r?.window ?? { hours: opts.windowHours, from: null, to: null }, opts.minCount);
    }),
    alarms: opts.alarms,
  };
}

/** Where a deployed stage's alarms are: CloudWatch, one alarm per asset model. */
export function cloudWatchAlarms(stage: string, assetModels: readonly string[]): DriftAlarms {
  const names = Object.fromEntries(assetModels.map((m) => [m, cloudWatchDriftAlarm(stage, m)]));
  return {
    kind: 'cloudwatch',
    names,
    message: `alarms: see CloudWatch alarm ${cloudWatchDriftAlarm(stage, '<model>')}`,
  };
}
