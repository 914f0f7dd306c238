/**
 * Ports: what the Lambda handlers need from the outside world, as interfaces. AWS implementations
 * live in `aws/` and receive their SDK clients as constructor parameters, so tests point them at
 * dynalite/kinesalite or a client mock, and the local mode swaps in its own stand-ins.
 *
 * Every write port reports what did not get written instead of dropping it: the handler decides
 * whether that fails the source record (infrastructure) or is logged and quarantined (bad data).
 */
import type { DriftCounts } from '../core/drift/psi.ts';
import type { TwinHealthChangedDetail } from '../core/alerts/policy.ts';
import type { AssetInfo, AssetModel } from '../core/catalog/types.ts';
import type { QuarantineRecord, ReasonCode } from '../core/cleaning/reasons.ts';
import type { FeatureRow, Prediction, Twin } from '../core/twin/twin.ts';
import type { CleanSample } from '../core/types.ts';

// ---------------------------------------------------------------------------------------------------
// Asset registry

export interface AssetRegistry {
  /** Registrations of the given assets; unknown ids are absent from the map. */
  getMany(assetIds: readonly string[]): Promise<ReadonlyMap<string, AssetInfo>>;
}

export interface CachedAssetRegistryOptions {
  /** How long an answer (including "not registered") is reused, in ms. @default 60000 */
  readonly ttlMs?: number;
  /** Clock, injectable for tests. @default Date.now */
  readonly now?: () => number;
}

/**
 * A per-container cache in front of a registry: a warm Lambda container resolves each asset once per
 * TTL instead of once per batch. Negative answers are cached too, so a misconfigured device sending at
 * a high rate does not hammer the table; the TTL bounds how long a newly registered asset waits.
 */
export class CachedAssetRegistry implements AssetRegistry {
  private readonly cache = new Map<string, { info: AssetInfo | undefined; until: number }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly inner: AssetRegistry,
    options: CachedAssetRegistryOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  async getMany(assetIds: readonly string[]): Promise<ReadonlyMap<string, AssetInfo>> {
    const now = this.now();
    const out = new Map<string, AssetInfo>();
    const missing: string[] = [];
    for (const id of new Set(assetIds)) {
      const hit = this.cache.get(id);
      if (hit !== undefined && hit.until > now) {
        if (hit.info) out.set(id, hit.info);
      } else missing.push(id);
    }
    if (missing.length > 0) {
      const fetched = await this.inner.getMany(missing);
      for (const id of missing) {
        const info = fetched.get(id);
        this.cache.set(id, { info, until: now + this.ttlMs });
        if (info) out.set(id, info);
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------
// Twin store

/** Another writer changed the twin between our read and our write. Re-read and re-apply. */
export class TwinConflictError extends Error {
  override readonly name: string = 'TwinConflictError';
  constructor(
    readonly assetId: string,
    readonly expectedVersion: number | null,
  ) {
    super(
      `twin ${assetId} changed concurrently (expected ${expectedVersion === null ? 'no twin' : `version ${expectedVersion}`})`,
    );
  }
}

export interface TwinStore {
  get(assetId: string): Promise<Twin | undefined>;
  /**
   * Writes the twin if the stored one still has `expectedVersion` (`null`: no twin stored yet).
   * @throws TwinConflictError when it does not.
   */
  put(twin: Twin, expectedVersion: number | null): Promise<void>;
  /**
   * Replaces the stored twin's outbox (`pendingAlerts`) with `remaining` if the twin still has
   * `version`, without changing anything else. @returns false when a newer write replaced the twin
   * (that writer read the outbox and carries it on).
   */
  settleAlerts(assetId: string, version: number, remaining: readonly TwinHealthChangedDetail[]): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------------
// Telemetry store (time series)

/** The asset dimensions every time-series record carries. */
export interface AssetDimensions {
  readonly assetId: string;
  readonly siteId: string;
  readonly modelId: string;
}

export interface FeaturePoint extends AssetDimensions {
  readonly row: FeatureRow;
  /** Names of `row.vector`'s values; empty when the row carries no vector. */
  readonly names: readonly string[];
}

export interface PredictionPoint extends AssetDimensions {
  readonly ts: number;
  readonly seq: number;
  readonly anomaly: number;
  readonly prediction: Prediction | null;
}

/** A point the store refused for a data reason; retrying would not help. */
export interface RejectedPoint {
  /** Index in the array given to the write call. */
  readonly index: number;
  readonly assetId: string;
  readonly seq: number;
  readonly reason: string;
}

export interface WriteReport {
  readonly written: number;
  readonly rejected: readonly RejectedPoint[];
}

export interface TelemetryStore {
  /** @throws on infrastructure failure once retries are exhausted; data rejections are reported. */
  writeTelemetry(samples: readonly CleanSample[]): Promise<WriteReport>;
  writeFeatures(points: readonly FeaturePoint[]): Promise<WriteReport>;
  writePredictions(points: readonly PredictionPoint[]): Promise<WriteReport>;
}

/** `PDM_TELEMETRY_STORE=none`: time series are not kept (Timestream is closed to new customers). */
export class NoopTelemetryStore implements TelemetryStore {
  async writeTelemetry(): Promise<WriteReport> {
    return { written: 0, rejected: [] };
  }
  async writeFeatures(): Promise<WriteReport> {
    return { written: 0, rejected: [] };
  }
  async writePredictions(): Promise<WriteReport> {
    return { written: 0, rejected: [] };
  }
}

// ---------------------------------------------------------------------------------------------------
// Quarantine

export interface QuarantineObject {
  readonly reason: ReasonCode;
  readonly key: string;
  readonly count: number;
}

export interface QuarantineFailure {
  readonly reason: ReasonCode;
  /** Source messages whose records are not stored: the handler fails them so they are retried. */
  readonly messageIds: readonly string[];
  readonly error: string;
}

export interface QuarantineReport {
  readonly objects: readonly QuarantineObject[];
  readonly failed: readonly QuarantineFailure[];
}

export interface QuarantineSink {
  /** Stores the records grouped by reason; `requestId` makes the keys unique per invocation. */
  put(records: readonly QuarantineRecord[], requestId: string): Promise<QuarantineReport>;
}

// ---------------------------------------------------------------------------------------------------
// Alerts

export interface AlertFailure {
  readonly alert: TwinHealthChangedDetail;
  readonly error: string;
}

export interface AlertPublisher {
  publish(alerts: readonly TwinHealthChangedDetail[]): Promise<{ readonly failed: readonly AlertFailure[] }>;
}

// ---------------------------------------------------------------------------------------------------
// Scoring

/** One asset's rows to score, with its twin (the context some predictors read). */
export interface ScoreItem {
  readonly twin: Twin;
  readonly rows: readonly FeatureRow[];
}

/** The async form of the core's `RowScorer`: one prediction (or null: no model) per row. */
export interface Scorer {
  score(model: AssetModel, twin: Twin, rows: readonly FeatureRow[]): Promise<(Prediction | null)[]>;
  /**
   * Scores several assets of one asset model at once: one answer per item, each like `score`'s. A
   * remote scorer implements it to make one call per predictor for all of them instead of one per
   * asset (calls are what serverless endpoints bill). @default each item through `score`
   */
  scoreMany?(model: AssetModel, items: readonly ScoreItem[]): Promise<(Prediction | null)[][]>;
  /** Whether rows of this asset model need feature vectors (it has predictors). */
  scores(model: AssetModel): boolean;
}

/**
 * A shadow challenger's predictions for an asset's rows (in process), or null when its asset model has
 * no challenger. Its outputs go to the history only (docs/models.md "Shadow challengers").
 */
export type ShadowScorer = (model: AssetModel, twin: Twin, rows: readonly FeatureRow[]) => (Prediction | null)[] | null;

// ---------------------------------------------------------------------------------------------------
// Clean stream

export interface StreamEntry<T> {
  readonly partitionKey: string;
  readonly data: Uint8Array;
  /** Caller's bookkeeping (e.g. which source records the entry came from); never sent. */
  readonly tag: T;
}

export interface StreamFailure<T> {
  readonly entry: StreamEntry<T>;
  readonly errorCode: string;
  readonly errorMessage: string;
}

export interface CleanStreamWriter {
  /** Puts every entry; entries still failing after bounded retries are reported, never thrown away. */
  put<T>(entries: readonly StreamEntry<T>[]): Promise<{ readonly failed: readonly StreamFailure<T>[] }>;
}

/**
 * Hourly bin counters of the drift window (docs/drift.md), shared by every container: `add` must be
 * atomic against concurrent writers of the same bucket (DynamoDB `ADD`), `read` sums buckets.
 */
export interface DriftCounterStore {
  /** Adds `counts` to the bucket `(key, hour)`; `expiresAt` (epoch s) lets the store drop the bucket later. */
  add(key: string, hour: number, counts: DriftCounts, expiresAt: number): Promise<void>;
  /** Sums the buckets `fromHour..toHour` (inclusive) of `key` into counts shaped like `empty`. */
  read(key: string, fromHour: number, toHour: number, empty: DriftCounts): Promise<DriftCounts>;
}
