/**
 * The dashboard's data source over a deployed stage (`pdm dashboard --stage`): twins from the DynamoDB
 * twin table, history and alerts from the Athena history tables, with the user's own credentials. The
 * fleet list reads only the items' plain summary attributes (a projected Scan, no body inflated);
 * one asset's view reads and inflates that one twin. Live updates poll the summaries.
 */
import { GetCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ALERT_DETAIL_VERSION, type TwinHealthChangedDetail } from '../../lambdas/core/alerts/policy.ts';
import { ASSET_MODELS, findAssetModel } from '../../lambdas/core/catalog/index.ts';
import type { AssetModel } from '../../lambdas/core/catalog/types.ts';
import { assetHistory, recentAlerts } from '../../lambdas/core/history/queries.ts';
import type { ModelBundle } from '../../lambdas/core/model/bundle.ts';
import { createBundleScorer } from '../../lambdas/core/model/scorer.ts';
import type { Twin } from '../../lambdas/core/twin/twin.ts';
import { decodeTwinItem } from '../../lambdas/adapters/aws/dynamodb.ts';
import type { HistoryQueryEngine } from '../../lambdas/adapters/history.ts';
import { DEFAULT_MIN_COUNT, DEFAULT_PSI_THRESHOLD, DEFAULT_WINDOW_HOURS } from '../../lambdas/core/drift/index.ts';
import { DEFAULT_REGISTRY_DIR } from '../../ml/registry/store.ts';
import { historyDrift } from '../history/drift.ts';
import { championsOf, cloudWatchAlarms, historyPanel } from './drift.ts';
import type {
  ChampionInfo,
  DashboardEvent,
  DriftPanelData,
  DashboardSource,
  FleetEntry,
  FleetSummary,
  HistoryPoint,
  WhatIfRequest,
  WhatIfResult,
} from './source.ts';
import { projectWhatIf, WhatIfInputError } from './whatif.ts';

export interface AwsDashboardSourceOptions {
  /** The deployed stage: names its drift alarms (`pdm-<stage>-drift-<model>`). */
  readonly stage: string;
  readonly doc: DynamoDBDocumentClient;
  readonly twinTable: string;
  /** Athena in the stage's history workgroup (the query module's `athena` dialect). */
  readonly history: HistoryQueryEngine;
  /** Scores the what-if; the deployed bundle is the one in this checkout's layers/model. */
  readonly bundle: ModelBundle;
  /** History window before an asset's newest sample: bounds what Athena scans. @default 7 days */
  readonly historyWindowMs?: number;
  /** Alerts window before now. @default 30 days */
  readonly alertWindowMs?: number;
  /** Interval of the summary poll feeding live updates; 0 = none. @default 15000 */
  readonly pollMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** Drift window, hours, ending at each asset model's newest feature row. @default DEFAULT_WINDOW_HOURS (24) */
  readonly driftWindowHours?: number;
  /** Rows a drift window needs for a PSI. @default DEFAULT_MIN_COUNT (500), as the features function */
  readonly driftMinCount?: number;
  /** The model registry the bundle's versions are looked up in; null = none. @default models/ */
  readonly registryDir?: string | null;
}

const SUMMARY = ['assetId', 'siteId', 'modelId', 'healthState', 'componentStates', 'risk', 'failureProbability', 'rul', 'lastSeq', 'updatedAt', 'samples'];

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export class AwsDashboardSource implements DashboardSource {
  private readonly listeners = new Set<(e: DashboardEvent) => void>();
  private timer: NodeJS.Timeout | undefined;
  private lastSeen = new Map<string, number | null>();
  private scorer: ReturnType<typeof createBundleScorer> | undefined;
  private readonly now: () => number;
  private champions: Map<string, ChampionInfo> | undefined;

  constructor(private readonly options: AwsDashboardSourceOptions) {
    this.now = options.now ?? Date.now;
  }

  models(): readonly AssetModel[] {
    return ASSET_MODELS;
  }

  async fleet(): Promise<readonly FleetEntry[]> {
    const out: FleetEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.doc.send(
        new ScanCommand({
          TableName: this.options.twinTable,
          ProjectionExpression: SUMMARY.map((_a, i) => `#a${i}`).join(', '),
          ExpressionAttributeNames: Object.fromEntries(SUMMARY.map((a, i) => [`#a${i}`, a])),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        if (typeof item.assetId !== 'string') continue;
        out.push({
          assetId: item.assetId,
          siteId: String(item.siteId ?? ''),
          modelId: String(item.modelId ?? ''),
          twin: null,
          summary: summaryOf(item),
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => a.assetId.localeCompare(b.assetId));
  }

  async twin(assetId: string): Promise<Twin | null> {
    const res = await this.options.doc.send(new GetCommand({ TableName: this.options.twinTable, Key: { assetId } }));
    return res.Item ? decodeTwinItem(res.Item) : null;
  }

  async history(assetId: string, limit: number): Promise<readonly HistoryPoint[]> {
    if (limit <= 0) return [];
    const res = await this.options.doc.send(
      new GetCommand({ TableName: this.options.twinTable, Key: { assetId }, ProjectionExpression: 'updatedAt' }),
    );
    const newest = num(res.Item?.updatedAt);
    if (newest === null) return [];
    const q = assetHistory('athena', assetId, newest - (this.options.historyWindowMs ?? 7 * 86_400_000), limit);
    const rows = await this.options.history.query(q.sql, q.params);
    return rows.map((r) => ({
      ts: Date.parse(String(r.ts)),
      seq: Number(r.seq),
      readings: parseReadings(r.readings),
      anomaly: num(r.anomaly),
      risk: null,
      failureProbability: num(r.failure_probability),
      rul: num(r.rul),
    }));
  }

  async alerts(limit: number): Promise<readonly TwinHealthChangedDetail[]> {
    if (limit <= 0) return [];
    const q = recentAlerts(this.now() - (this.options.alertWindowMs ?? 30 * 86_400_000), limit);
    const rows = await this.options.history.query(q.sql, q.params);
    return rows.map(alertOf);
  }

  async whatIf(request: WhatIfRequest): Promise<WhatIfResult> {
    const twin = await this.twin(request.assetId);
    const model = twin ? findAssetModel(twin.modelId) : undefined;
    if (!twin || !model) throw new WhatIfInputError(`asset ${request.assetId} has no twin`);
    this.scorer ??= createBundleScorer(this.options.bundle);
    return projectWhatIf({
      twin,
      model,
      bundle: this.options.bundle,
      scorer: this.scorer,
      component: request.component,
      deferDays: request.deferDays,
    });
  }

  /**
   * The drift panel from the history tables: `historyDrift`, the computation of `pdm drift --stage`, in
   * Athena (two queries per asset model; the server caches the answer for a minute). The alarms are
   * CloudWatch's, which this reader does not query: the panel names them.
   */
  async drift(): Promise<DriftPanelData> {
    const windowHours = this.options.driftWindowHours ?? DEFAULT_WINDOW_HOURS;
    const minCount = this.options.driftMinCount ?? DEFAULT_MIN_COUNT;
    const { bundle } = this.options;
    this.champions ??= championsOf(bundle, this.options.registryDir === undefined ? DEFAULT_REGISTRY_DIR : this.options.registryDir);
    const reports = await historyDrift(this.options.history, 'athena', bundle, { windowHours, minCount });
    return historyPanel({
      bundle,
      champions: this.champions,
      reports,
      windowHours,
      minCount,
      threshold: DEFAULT_PSI_THRESHOLD,
      alarms: cloudWatchAlarms(this.options.stage, [...bundle.models].filter(([, e]) => e.reference).map(([id]) => id).sort()),
    });
  }

  subscribe(listener: (event: DashboardEvent) => void): () => void {
    this.listeners.add(listener);
    const every = this.options.pollMs ?? 15_000;
    if (every > 0 && !this.timer) {
      this.timer = setInterval(() => void this.poll().catch(() => undefined), every);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** Emits a twin event for each asset whose newest sample changed since the last poll. */
  async poll(): Promise<void> {
    const fleet = await this.fleet();
    const first = this.lastSeen.size === 0;
    const next = new Map<string, number | null>();
    for (const e of fleet) {
      const at = e.summary?.lastTs ?? null;
      next.set(e.assetId, at);
      if (!first && this.lastSeen.get(e.assetId) !== at) for (const l of this.listeners) l({ type: 'twin', assetId: e.assetId });
    }
    this.lastSeen = next;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }
}

function summaryOf(item: Record<string, unknown>): FleetSummary {
  const comps: Record<string, string> = {};
  if (item.componentStates && typeof item.componentStates === 'object') {
    for (const [k, v] of Object.entries(item.componentStates)) if (typeof v === 'string') comps[k] = v;
  }
  return {
    state: typeof item.healthState === 'string' ? item.healthState : 'NORMAL',
    components: comps,
    risk: num(item.risk),
    failureProbability: num(item.failureProbability),
    rul: num(item.rul),
    lastSeq: typeof item.lastSeq === 'number' ? item.lastSeq : -1,
    lastTs: num(item.updatedAt),
    samples: typeof item.samples === 'number' ? item.samples : 0,
  };
}

function parseReadings(v: unknown): Record<string, number> {
  if (typeof v !== 'string' || v === '') return {};
  try {
    const parsed = JSON.parse(v) as Record<string, unknown>;
    const out: Record<string, number> = {};
    for (const [k, x] of Object.entries(parsed)) if (typeof x === 'number') out[k] = x;
    return out;
  } catch {
    return {};
  }
}

/** An alerts-table row as the alert event the page shows (the table keeps every field of the detail). */
function alertOf(r: Record<string, unknown>): TwinHealthChangedDetail {
  let top: TwinHealthChangedDetail['topContributors'];
  try {
    top = JSON.parse(String(r.top_contributors ?? '[]')) as TwinHealthChangedDetail['topContributors'];
  } catch {
    top = [];
  }
  return {
    version: ALERT_DETAIL_VERSION,
    alertId: String(r.alert_id),
    assetId: String(r.asset_id),
    siteId: String(r.site_id ?? ''),
    assetModel: String(r.model_id ?? ''),
    scope: r.scope === 'component' ? 'component' : 'asset',
    ...(typeof r.component === 'string' ? { component: r.component } : {}),
    from: String(r.from_state) as TwinHealthChangedDetail['from'],
    to: String(r.to_state) as TwinHealthChangedDetail['to'],
    severity: String(r.severity) as TwinHealthChangedDetail['severity'],
    at: String(r.ts),
    seq: Number(r.seq ?? -1),
    scores: {
      risk: num(r.risk) ?? 0,
      anomaly: num(r.anomaly) ?? 0,
      failureProbability: num(r.failure_probability),
      rul: num(r.rul),
      rulUnit: r.rul_unit === 'cycles' ? 'cycles' : 'hours',
    },
    topContributors: top,
    estimatedCostAvoidedUsd: num(r.estimated_cost_avoided_usd) ?? 0,
  };
}
