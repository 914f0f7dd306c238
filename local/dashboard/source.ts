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
  /** The twin's risk (0–1), the highest reached from today to this day. */
  readonly risk: number;
  /** Highest predicted failure probability from today to this day; null without a failure model. */
  readonly failureProbability: number | null;
  /** Lowest predicted RUL from today to this day, clock units (ms or cycles); null without a RUL model. */
  readonly rul: number | null;
  /** Highest failure probability of the deferred component's own model; null where the bundle has none. */
  readonly componentFailure: number | null;
}

/** Why a what-if has no line (or a shorter one than asked for). */
export type WhatIfReason =
  /** A projected feature leaves the range the models were trained to resolve. */
  | 'extrapolation'
  /** The bundle has no model for the asset model. */
  | 'no-model'
  /** No model in the bundle was trained on failures of the deferred component. */
  | 'no-component-model'
  /** The bundle's training ranges are unknown (it was trained on other data than the stored ranges). */
  | 'no-training-ranges';

/** A projected feature outside the range it took in the models' training data. */
export interface WhatIfOutOfRange {
  readonly feature: string;
  readonly value: number;
  readonly min: number;
  readonly max: number;
}

export interface WhatIfLimit {
  readonly reason: WhatIfReason;
  /** First day without a basis; 1 when there is none beyond today. */
  readonly fromDay: number;
  /** The reason in words, for the panel. */
  readonly message: string;
  /** For `extrapolation`: the features that left their range on `fromDay`, furthest out first. */
  readonly features?: readonly WhatIfOutOfRange[];
}

export interface WhatIfResult {
  readonly assetId: string;
  readonly component: string;
  /** Days asked for. */
  readonly deferDays: number;
  /** Days the models have a basis for: `points` runs from day 0 to this day (0 and no points without any). */
  readonly projectedDays: number;
  /** Why the projection stops before `deferDays`; null when it covers them all. */
  readonly limit: WhatIfLimit | null;
  /** How the future was projected, in words (shown next to the chart). */
  readonly method: string;
  readonly points: readonly WhatIfPoint[];
}

/** One top feature's PSI in the current window; null when the window has no PSI. */
export interface DriftFeatureRow {
  readonly feature: string;
  readonly psi: number | null;
}

/** Which models serve an asset model: the bundle the source scores with, matched to the registry. */
export interface ChampionInfo {
  /** Registry version whose files are the bundle's (e.g. `turbofan@2`); null when none matches. */
  readonly version: string | null;
  /** True when that version is the registry's champion; null without a match. */
  readonly champion: boolean | null;
  /** The registry's champion id, shown when the bundle is another version; null without a registry. */
  readonly registryChampion: string | null;
  /** The history's `model_version`: 12 hex of the predictors' file hashes. */
  readonly modelHash: string | null;
  /** The bundle manifest's `createdAt`. */
  readonly bundleCreatedAt: string;
}

/** The drift of one asset model in its current window. */
export interface DriftModelPanel {
  readonly assetModel: string;
  readonly champion: ChampionInfo;
  /** Max PSI over the top features; null when the window has none (see `reason`). */
  readonly psi: number | null;
  /** The feature with that max; null with `psi`. */
  readonly feature: string | null;
  /** Why `psi` is null, in words; null when there is a PSI. */
  readonly reason: string | null;
  readonly rows: number;
  readonly minCount: number;
  /** Event-time window, ISO; `from`/`to` null when no window has been read. */
  readonly window: { readonly hours: number; readonly from: string | null; readonly to: string | null };
  /** Per top feature, most drifted first (as the core returns them). */
  readonly features: readonly DriftFeatureRow[];
}

/** A drift alarm event (`ModelDriftDetected`). */
export interface DriftAlarmEntry {
  /** Start of the newest hour of the breaching window (event time), ISO. */
  readonly at: string;
  readonly assetModel: string;
  readonly psi: number;
  readonly feature: string;
  readonly rows: number;
  readonly threshold: number;
}

/**
 * The alarms: the emulated alarm's events where the source sees them (local mode), else where to look
 * (a deployed stage's CloudWatch alarms, by name).
 */
export type DriftAlarms =
  | { readonly kind: 'events'; /** Newest first. */ readonly items: readonly DriftAlarmEntry[] }
  | { readonly kind: 'cloudwatch'; readonly names: Readonly<Record<string, string>>; readonly message: string };

/** The "Models & drift" panel as a source computes it. */
export interface DriftPanelData {
  readonly threshold: number;
  /** Where the PSI came from: the live drift window (local runtime) or the history tables. */
  readonly basis: 'drift-window' | 'history';
  readonly models: readonly DriftModelPanel[];
  readonly alarms: DriftAlarms;
}

/** What `GET /api/drift` answers: the panel and when the server computed it (cached for a minute). */
export interface DriftPanel extends DriftPanelData {
  readonly computedAt: string;
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
  /** Per asset model: its models, the PSI of its current window, and the drift alarms. The server caches it. */
  drift(): Promise<DriftPanelData>;
  /** Live updates; returns an unsubscribe function. */
  subscribe(listener: (event: DashboardEvent) => void): () => void;
}
