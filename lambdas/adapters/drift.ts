/**
 * The features function's drift window (docs/drift.md): per batch, the scored rows of each asset model
 * that has a training reference are binned over its top features and added to the shared hourly
 * counters (one write per asset model and hour bucket, normally one per batch); then, at most once per
 * `evaluateEveryMs` per container and asset model, the last `windowHours` buckets are read and PSI
 * computed. Buckets follow the rows' event time, so a replay or a fast local simulation fills its
 * window by simulated hours, and the window ends at the newest hour the batch carried.
 */
import type { AssetModel } from '../core/catalog/types.ts';
import {
  assetModelDrift,
  type CompiledReference,
  compileReference,
  countVectors,
  DEFAULT_MIN_COUNT,
  DEFAULT_WINDOW_HOURS,
  type DriftReport,
  emptyCounts,
  hourOf,
  minHoursOf,
} from '../core/drift/index.ts';
import { featureNames } from '../core/features/index.ts';
import type { ModelBundle } from '../core/model/bundle.ts';
import type { DriftCounterStore } from './ports.ts';

export interface DriftMonitorOptions {
  /** @default DEFAULT_WINDOW_HOURS (24) */
  readonly windowHours?: number;
  /** @default DEFAULT_MIN_COUNT (500) */
  readonly minCount?: number;
  /** Least time between two window reads of an asset model in this container, ms; 0 = every batch. @default 60_000 */
  readonly evaluateEveryMs?: number;
  /** Wall clock, for the evaluation interval and the buckets' expiry. @default Date.now */
  readonly now?: () => number;
}

/** A drift report with the window it covers. */
export interface DriftWindowReport extends DriftReport {
  readonly window: { readonly hours: number; readonly fromHour: number; readonly toHour: number };
  /** The reference's id: buckets of another champion's bins are not mixed in. */
  readonly referenceId: string;
}

export interface DriftRows {
  readonly model: AssetModel;
  readonly rows: readonly { readonly ts: number; readonly vector: ArrayLike<number> }[];
}

/** A bad drift setting, raised at the cold start. */
export class DriftConfigError extends Error {
  override readonly name: string = 'DriftConfigError';
}

export class DriftMonitor {
  private readonly compiled = new Map<string, CompiledReference | null>();
  private readonly lastEvaluated = new Map<string, number>();
  readonly windowHours: number;
  readonly minCount: number;
  private readonly evaluateEveryMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: DriftCounterStore,
    private readonly bundle: ModelBundle,
    opts: DriftMonitorOptions = {},
  ) {
    this.windowHours = opts.windowHours ?? DEFAULT_WINDOW_HOURS;
    this.minCount = opts.minCount ?? DEFAULT_MIN_COUNT;
    this.evaluateEveryMs = opts.evaluateEveryMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    if (!Number.isInteger(this.windowHours) || this.windowHours < 1 || this.windowHours > 24 * 31) {
      throw new DriftConfigError(`drift window must be 1…744 whole hours, got ${this.windowHours}`);
    }
    if (!Number.isInteger(this.minCount) || this.minCount < 1) throw new DriftConfigError(`drift minimum count must be a positive integer, got ${this.minCount}`);
    if (!(this.evaluateEveryMs >= 0)) throw new DriftConfigError(`drift evaluation interval must be ≥ 0 ms, got ${this.evaluateEveryMs}`);
  }

  /** The compiled reference of an asset model; null when its bundle entry has none or it watches nothing. */
  referenceOf(model: AssetModel): CompiledReference | null {
    let c = this.compiled.get(model.id);
    if (c === undefined) {
      const ref = this.bundle.models.get(model.id)?.reference ?? null;
      // A reference that watches no feature has nothing to count: no counters, no metric.
      c = ref && ref.topFeatures.length > 0 ? compileReference(ref, featureNames(model)) : null;
      this.compiled.set(model.id, c);
    }
    return c;
  }

  /** Adds the rows to the counters, then returns the reports that were due (one per asset model at most). */
  async record(groups: readonly DriftRows[]): Promise<DriftWindowReport[]> {
    const byModel = new Map<string, { model: AssetModel; rows: DriftRows['rows'][number][] }>();
    for (const g of groups) {
      const rows = g.rows.filter((r) => r.vector.length > 0);
      if (rows.length === 0) continue;
      const entry = byModel.get(g.model.id);
      if (entry) entry.rows.push(...rows);
      else byModel.set(g.model.id, { model: g.model, rows });
    }
    const reports: DriftWindowReport[] = [];
    await Promise.all(
      [...byModel.values()].map(async ({ model, rows }) => {
        const compiled = this.referenceOf(model);
        if (!compiled) return;
        const key = `${model.id}#${compiled.id}`;
        const byHour = new Map<number, DriftRows['rows'][number][]>();
        for (const r of rows) {
          const h = hourOf(r.ts);
          const list = byHour.get(h);
          if (list) list.push(r);
          else byHour.set(h, [r]);
        }
        // Buckets expire a day after the window could last read them.
        const expiresAt = Math.floor(this.now() / 1000) + (this.windowHours + 24) * 3600;
        await Promise.all(
          [...byHour].map(([h, list]) =>
            this.store.add(key, h, countVectors(compiled, list.map((r) => r.vector), emptyCounts(compiled.reference)), expiresAt),
          ),
        );
        const last = this.lastEvaluated.get(model.id);
        const now = this.now();
        if (last !== undefined && now - last < this.evaluateEveryMs) return;
        this.lastEvaluated.set(model.id, now);
        const toHour = Math.max(...byHour.keys());
        const fromHour = toHour - this.windowHours + 1;
        const counts = await this.store.read(key, fromHour, toHour, emptyCounts(compiled.reference));
        reports.push({
          ...assetModelDrift(model.id, compiled.reference, counts, { minCount: this.minCount, minHours: minHoursOf(this.windowHours) }),
          window: { hours: this.windowHours, fromHour, toHour },
          referenceId: compiled.id,
        });
      }),
    );
    return reports.sort((a, b) => (a.assetModel < b.assetModel ? -1 : 1));
  }
}
