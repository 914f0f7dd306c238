/**
 * What the dashboard reads, and nothing else: the local runtime implements it over dynalite (twins)
 * and DuckDB (history); tests implement it over an in-process pipeline. Keeping the dashboard behind
 * this interface lets it be built and tested without the stand-ins.
 */
import type { TwinHealthChangedDetail } from '../../lambdas/core/alerts/policy.ts';
import type { AssetModel } from '../../lambdas/core/catalog/types.ts';
import type { Twin } from '../../lambdas/core/twin/twin.ts';

export interface FleetEntry {
  readonly assetId: string;
  readonly siteId: string;
  readonly modelId: string;
  readonly twin: Twin | null;
  /**
   * The twin's plain summary, for sources that list the fleet without reading whole twins (the
   * deployed table's summary attributes); used when `twin` is null.
   */
  readonly summary?: FleetSummary;
}

export interface FleetSummary {
  readonly state: string;
  readonly components: Readonly<Record<string, string>>;
  readonly risk: number | null;
  readonly failureProbability: number | null;
  readonly rul: number | null;
  readonly lastSeq: number;
  /** Epoch ms of the newest applied sample. */
  readonly lastTs: number | null;
  readonly samples: number;
}

/** One point of an asset's history (a clean sample and what the pipeline made of it). */
export interface HistoryPoint {
  readonly ts: number;
  readonly seq: number;
  readonly readings: Readonly<Record<string, number>>;
  readonly anomaly: number | null;
  readonly risk: number | null;
  readonly failureProbability: number | null;
  /** Clock units of the asset model (ms or cycles). */
  readonly rul: number | null;
}

export interface WhatIfRequest {
  readonly assetId: string;
  readonly component: string;
  readonly deferDays: number;
}

export interface WhatIfPoint {
  /** Days from now. */
  readonly day: number;
  readonly failureProbability: number | null;
  readonly rul: number | null;
  readonly componentFailure: number | null;
}

export interface WhatIfResult {
  readonly assetId: string;
  readonly component: string;
  readonly deferDays: number;
  /** How the future was projected, in words (shown next to the chart). */
  readonly method: string;
  readonly points: readonly WhatIfPoint[];
}

export type DashboardEvent =
  | { readonly type: 'twin'; readonly assetId: string }
  | { readonly type: 'alert'; readonly alert: TwinHealthChangedDetail };

export interface DashboardSource {
  models(): readonly AssetModel[];
  fleet(): Promise<readonly FleetEntry[]>;
  twin(assetId: string): Promise<Twin | null>;
  /** Newest last, at most `limit` points. */
  history(assetId: string, limit: number): Promise<readonly HistoryPoint[]>;
  /** Newest first. */
  alerts(limit: number): Promise<readonly TwinHealthChangedDetail[]>;
  whatIf(request: WhatIfRequest): Promise<WhatIfResult>;
  /** Live updates; returns an unsubscribe function. */
  subscribe(listener: (event: DashboardEvent) => void): () => void;
}
