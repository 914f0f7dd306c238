/**
 * An in-process `DashboardSource`: a simulated fleet driven through the real core pipeline
 * (`processMessages`) and scored by the real model bundle, with twins, a bounded history per asset and
 * the alert feed kept in memory. Used by the dashboard's tests and to run the dashboard without the
 * local runtime's stand-ins (`npx tsx local/dashboard/memory-source.ts`).
 */
import { pathToFileURL } from 'node:url';
import type { FleetAsset, FleetOptions, SimulatorOptions } from '../../devices/fleet.ts';
import { createFleet, FleetSimulator, fleetLookup } from '../../devices/fleet.ts';
import type { TwinHealthChangedDetail } from '../../lambdas/core/alerts/policy.ts';
import type { AnomalyBaseline } from '../../lambdas/core/anomaly/index.ts';
import { DEFAULT_BASELINES } from '../../lambdas/core/anomaly/index.ts';
import { ASSET_MODELS, findAssetModel } from '../../lambdas/core/catalog/index.ts';
import type { AssetModel } from '../../lambdas/core/catalog/types.ts';
import type { ModelBundle } from '../../lambdas/core/model/bundle.ts';
import { createBundleScorer } from '../../lambdas/core/model/scorer.ts';
import type { RawMessage, RowScorer } from '../../lambdas/core/pipeline.ts';
import { defaultPolicies, processMessages } from '../../lambdas/core/pipeline.ts';
import type { Twin } from '../../lambdas/core/twin/twin.ts';
import { attributeToComponents } from '../../lambdas/core/twin/twin.ts';
import { readBundle } from '../../ml/bundle/read.ts';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DriftMonitor, type DriftRows } from '../../lambdas/adapters/drift.ts';
import { LocalDriftAlarm } from '../runtime/drift-alarm.ts';
import { championsOf, MemoryDriftCounterStore, windowPanel } from './drift.ts';
import { startDashboard } from './server.ts';
import type {
  ChampionInfo,
  DashboardEvent,
  DashboardSource,
  DriftPanelData,
  FleetEntry,
  HistoryPoint,
  WhatIfRequest,
  WhatIfResult,
} from './source.ts';
import { projectWhatIf } from './whatif.ts';

export interface MemorySourceOptions {
  /** The simulated fleet. @default createFleet(fleetOptions) */
  readonly fleet?: readonly FleetAsset[];
  /** Used when `fleet` is not given. @default {} (12 assets, a quarter degrading) */
  readonly fleetOptions?: FleetOptions;
  /** @default { seed: 1 } */
  readonly simulator?: SimulatorOptions;
  /** The model bundle scoring every row and the what-if. @default readBundle() (layers/model) */
  readonly bundle?: ModelBundle;
  /** History points kept per asset, oldest dropped first. @default 2000 */
  readonly historyLimit?: number;
  /** Alerts kept, oldest dropped first. @default 500 */
  readonly alertLimit?: number;
  /** Drift window (docs/drift.md). @default 24 h and 500 rows, as the features function */
  readonly drift?: { readonly windowHours?: number; readonly minCount?: number };
  /** Model registry the bundle's versions are looked up in; null = none. @default models/ */
  readonly registryDir?: string | null;
}

/** An asset id the source does not know. */
export class UnknownAssetError extends Error {
  override readonly name: string = 'UnknownAssetError';
  constructor(readonly assetId: string) {
    super(`unknown asset "${assetId}"`);
  }
}

export interface StepResult {
  readonly messages: number;
  readonly alerts: readonly TwinHealthChangedDetail[];
}

function baselineFor(model: AssetModel): AnomalyBaseline {
  const baseline = DEFAULT_BASELINES[model.id];
  if (!baseline) throw new Error(`no anomaly baseline shipped for asset model ${model.id}`);
  return baseline;
}

interface ReadingKey {
  readonly assetId: string;
  readonly seq: number;
}

export class MemoryDashboardSource implements DashboardSource {
  readonly fleetAssets: readonly FleetAsset[];
  readonly simulator: FleetSimulator;
  private readonly twins = new Map<string, Twin>();
  private readonly histories = new Map<string, HistoryPoint[]>();
  private readonly alertFeed: TwinHealthChangedDetail[] = [];
  private readonly listeners = new Set<(event: DashboardEvent) => void>();
  private readonly bundle: ModelBundle;
  private readonly scorer: RowScorer;
  private readonly recordingScorer: RowScorer;
  private readonly lookup: ReturnType<typeof fleetLookup>;
  private readonly historyLimit: number;
  private readonly alertLimit: number;
  /** Readings of the samples of the batch being processed, by asset and seq, for the history. */
  private pendingReadings = new Map<string, Record<string, number>>();
  private messageNo = 0;
  /** The features function's drift window, over counters in memory, read after every step. */
  private readonly driftMonitor: DriftMonitor;
  private readonly driftAlarm: LocalDriftAlarm;
  private readonly driftRecorder: Pick<DriftMonitor, 'record'>;
  /** The first failure of the drift counting, reported by `drift()`. */
  private driftError: Error | null = null;
  /** Scored rows of the step being processed, per asset model: what the features function counts. */
  private pendingDrift: DriftRows[] = [];
  /** Drift counting runs behind the (synchronous) steps, in order; `drift()` waits for it. */
  private driftQueue: Promise<void> = Promise.resolve();
  private champions: Map<string, ChampionInfo> | undefined;
  private readonly registryDir: string | null | undefined;

  constructor(options: MemorySourceOptions = {}) {
    this.fleetAssets = options.fleet ?? createFleet(options.fleetOptions ?? {});
    this.simulator = new FleetSimulator(this.fleetAssets, options.simulator ?? { seed: 1 });
    this.lookup = fleetLookup(this.fleetAssets);
    this.bundle = options.bundle ?? readBundle();
    this.scorer = createBundleScorer(this.bundle);
    this.historyLimit = options.historyLimit ?? 2000;
    this.alertLimit = options.alertLimit ?? 500;
    this.registryDir = options.registryDir;
    this.driftMonitor = new DriftMonitor(new MemoryDriftCounterStore(), this.bundle, { ...options.drift, evaluateEveryMs: 0 });
    // The local runtime's alarm emulation, on a bus that takes every event: nothing listens in process.
    const bus = { send: async () => ({ FailedEntryCount: 0, Entries: [] }) } as unknown as EventBridgeClient;
    this.driftAlarm = new LocalDriftAlarm({ events: bus, eventBus: 'memory' });
    this.driftRecorder = this.driftAlarm.watch(this.driftMonitor);
    // The pipeline does not return per-row predictions; this scorer records them as it scores.
    this.recordingScorer = (model, twin, rows) => {
      const predictions = this.scorer(model, twin, rows);
      this.pendingDrift.push({ model, rows: rows.map((r) => ({ ts: r.ts, vector: r.vector })) });
      const rulHorizon = defaultPolicies(model).risk.rulHorizon;
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        const p = predictions[i] ?? null;
        const rulRisk = p?.rul === null || p?.rul === undefined ? 0 : Math.min(1, Math.max(0, 1 - p.rul / rulHorizon));
        let componentRisk = 0;
        const attributed = attributeToComponents(model, row.anomaly);
        for (const name of Object.keys(model.components)) {
          componentRisk = Math.max(componentRisk, p?.componentFailure?.[name] ?? 0, attributed[name] ?? 0);
        }
        this.record(twin.assetId, {
          ts: row.ts,
          seq: row.seq,
          readings: this.pendingReadings.get(key({ assetId: twin.assetId, seq: row.seq })) ?? {},
          anomaly: row.anomaly.score,
          risk: Math.min(1, Math.max(row.anomaly.score, p?.failureProbability ?? 0, rulRisk, componentRisk)),
          failureProbability: p?.failureProbability ?? null,
          rul: p?.rul ?? null,
        });
      }
      return predictions;
    };
  }

  /** Advances the simulation `n` ticks through the pipeline; emits twin and alert events per tick. */
  step(n = 1): StepResult {
    let messages = 0;
    const alerts: TwinHealthChangedDetail[] = [];
    for (let i = 0; i < n; i++) {
      const receivedAt = this.simulator.now + 1_000;
      const batch: RawMessage[] = this.simulator.step().map((m) => ({
        topic: m.topic,
        payload: m.payload,
        messageId: String(++this.messageNo),
        receivedAt,
      }));
      messages += batch.length;
      this.pendingReadings = readingsOf(batch);
      const result = processMessages(batch, this.twins, {
        lookupAsset: this.lookup,
        baselineFor,
        scorer: this.recordingScorer,
      });
      this.pendingReadings = new Map();
      const groups = this.pendingDrift;
      this.pendingDrift = [];
      if (groups.length > 0) {
        this.driftQueue = this.driftQueue
          .then(async () => {
            if (!this.driftError) await this.driftRecorder.record(groups);
          })
          .catch((e: unknown) => {
            this.driftError ??= e instanceof Error ? e : new Error(String(e));
          });
      }
      for (const [id, twin] of result.twins) this.twins.set(id, twin);
      for (const alert of result.alerts) {
        this.alertFeed.unshift(alert);
        alerts.push(alert);
      }
      if (this.alertFeed.length > this.alertLimit) this.alertFeed.length = this.alertLimit;
      for (const id of result.twins.keys()) this.emit({ type: 'twin', assetId: id });
      for (const alert of result.alerts) this.emit({ type: 'alert', alert });
    }
    return { messages, alerts };
  }

  models() {
    return ASSET_MODELS;
  }

  async fleet(): Promise<readonly FleetEntry[]> {
    return this.fleetAssets.map((a) => ({
      assetId: a.assetId,
      siteId: a.siteId,
      modelId: a.modelId,
      twin: this.twins.get(a.assetId) ?? null,
    }));
  }

  async twin(assetId: string): Promise<Twin | null> {
    return this.twins.get(assetId) ?? null;
  }

  async history(assetId: string, limit: number): Promise<readonly HistoryPoint[]> {
    const points = this.histories.get(assetId) ?? [];
    return limit <= 0 ? [] : points.slice(-limit);
  }

  async alerts(limit: number): Promise<readonly TwinHealthChangedDetail[]> {
    return this.alertFeed.slice(0, Math.max(0, limit));
  }

  async whatIf(request: WhatIfRequest): Promise<WhatIfResult> {
    const asset = this.lookup(request.assetId);
    const model = asset ? findAssetModel(asset.modelId) : undefined;
    if (!asset || !model) throw new UnknownAssetError(request.assetId);
    const twin = this.twins.get(request.assetId);
    if (!twin) throw new UnknownAssetError(request.assetId);
    return projectWhatIf({
      twin,
      model,
      bundle: this.bundle,
      scorer: this.scorer,
      component: request.component,
      deferDays: request.deferDays,
      baseline: baselineFor(model),
      ...(asset.attributes ? { attributes: asset.attributes } : {}),
      hoursPerCycle: defaultPolicies(model).alert.hoursPerClockUnit,
    });
  }

  /** The drift panel of the steps so far: the newest window report per asset model and the alarms that fired. */
  async drift(): Promise<DriftPanelData> {
    await this.driftQueue;
    if (this.driftError) throw this.driftError;
    this.champions ??= championsOf(this.bundle, this.registryDir);
    return windowPanel({
      bundle: this.bundle,
      champions: this.champions,
      latest: this.driftAlarm.latest,
      windowHours: this.driftMonitor.windowHours,
      minCount: this.driftMonitor.minCount,
      threshold: this.driftAlarm.threshold,
      alarms: this.driftAlarm.fired,
    });
  }

  subscribe(listener: (event: DashboardEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private emit(event: DashboardEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private record(assetId: string, point: HistoryPoint): void {
    let list = this.histories.get(assetId);
    if (!list) {
      list = [];
      this.histories.set(assetId, list);
    }
    list.push(point);
    // Trim in chunks: splicing one element per sample would move the whole array every time.
    if (list.length > this.historyLimit + 100) list.splice(0, list.length - this.historyLimit);
  }
}

const key = (k: ReadingKey) => `${k.assetId}\u0000${k.seq}`;

/** Readings per asset and seq from the simulator's own telemetry payloads (the pipeline keeps none). */
function readingsOf(batch: readonly RawMessage[]): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const m of batch) {
    let body: unknown;
    try {
      body = JSON.parse(typeof m.payload === 'string' ? m.payload : new TextDecoder().decode(m.payload));
    } catch {
      continue; // a damaged message: cleaning quarantines it, and it has no row
    }
    if (typeof body !== 'object' || body === null) continue;
    const b = body as { assetId?: unknown; samples?: unknown; seq?: unknown; readings?: unknown };
    if (typeof b.assetId !== 'string') continue;
    const samples = Array.isArray(b.samples) ? (b.samples as unknown[]) : [b];
    for (const s of samples) {
      const sample = s as { seq?: unknown; readings?: unknown };
      if (typeof sample.seq !== 'number' || typeof sample.readings !== 'object' || sample.readings === null) continue;
      const readings: Record<string, number> = {};
      for (const [name, v] of Object.entries(sample.readings as Record<string, unknown>)) {
        if (typeof v === 'number' && Number.isFinite(v)) readings[name] = v;
      }
      out.set(key({ assetId: b.assetId, seq: sample.seq }), readings);
    }
  }
  return out;
}

export interface MemoryDemoOptions extends MemorySourceOptions {
  /** @default 8080 */
  readonly port?: number;
  /** Ticks simulated before the server starts, so there is history to look at. @default 150 */
  readonly warmupTicks?: number;
  /** Wall-clock ms between live ticks. @default 1000 */
  readonly tickMs?: number;
}

/**
 * Runs the dashboard over a simulated fleet: warms up, serves on loopback and steps one tick per
 * `tickMs` until stopped.
 */
export async function startMemoryDashboardDemo(
  options: MemoryDemoOptions = {},
): Promise<{ url: string; source: MemoryDashboardSource; stop(): Promise<void> }> {
  const source = new MemoryDashboardSource(options);
  source.step(options.warmupTicks ?? 150);
  const server = await startDashboard({ source, port: options.port ?? 8080 });
  const timer = setInterval(() => source.step(1), options.tickMs ?? 1000);
  return {
    url: server.url,
    source,
    async stop() {
      clearInterval(timer);
      await server.stop();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 8080);
  const demo = await startMemoryDashboardDemo({ port });
  console.log(`dashboard (simulated fleet, in process): ${demo.url}  — Ctrl+C to stop`);
  process.once('SIGINT', () => void demo.stop().then(() => process.exit(0)));
}
