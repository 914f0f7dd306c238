/**
 * Device events for the fleet simulator (`pdm.event.v1`): the error and alarm codes a machine's
 * controller logs. Codes of a wearing component become more frequent, and more severe, as its wear
 * grows, as real alarms do when a value creeps past its warning and then its trip level; rare noise
 * events (any known code, and firmware codes the catalog does not list) fire on healthy assets too.
 * Each asset draws from its own seeded generator, so enabling events changes no telemetry.
 */
import type { AssetModel } from '../lambdas/core/catalog/types.ts';
import { EVENT_SCHEMA, type EventSeverity } from '../lambdas/core/contract/telemetry.ts';
import { eventsTopic } from '../lambdas/core/contract/topics.ts';
import { Rng, seedFor } from './rng.ts';

export interface DeviceEventOptions {
  /**
   * Probability, per asset and tick, of a noise event: a random known code or a firmware code the
   * catalog does not list, at severity `info`.
   * @default 0.002
   */
  readonly noiseRate?: number;
  /**
   * Probability, per tick and code of the wearing component, of an event at full wear; it grows with
   * the square of wear (so a new part almost never raises one).
   * @default 0.3
   */
  readonly wearRate?: number;
}

/** Firmware codes outside the catalog: they reach the "other" event counts. */
export const UNLISTED_CODES = ['COMM_RETRY', 'WATCHDOG_RESET'] as const;

export class DeviceEventOptionsError extends Error {
  override readonly name: string = 'DeviceEventOptionsError';
}

export function validateDeviceEventOptions(options: DeviceEventOptions): void {
  for (const key of ['noiseRate', 'wearRate'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0 && value <= 1)) {
      throw new DeviceEventOptionsError(`events.${key} must be a probability in [0, 1], got ${String(value)}`);
    }
  }
}

/** Severity of a wear-driven event: warning early, error past half wear, critical near failure. */
export function severityForWear(wear: number): EventSeverity {
  if (wear >= 0.85) return 'critical';
  if (wear >= 0.5) return 'error';
  return 'warning';
}

export interface DeviceEventOut {
  readonly ts: number;
  readonly seq: number;
  readonly code: string;
  readonly severity: EventSeverity;
  readonly component?: string;
}

/** One asset's event log generator. */
export class AssetEventLog {
  private readonly rng: Rng;
  private readonly noiseRate: number;
  private readonly wearRate: number;
  private readonly known: NonNullable<AssetModel['events']>;
  private readonly codes: readonly string[];
  private seq = 0;

  constructor(
    readonly assetId: string,
    readonly siteId: string,
    /** Undefined for a model outside the catalog: only unlisted noise codes are logged. */
    model: AssetModel | undefined,
    options: DeviceEventOptions,
    seed: number,
  ) {
    validateDeviceEventOptions(options);
    this.rng = new Rng(seedFor(seed, `${assetId}:events`));
    this.noiseRate = options.noiseRate ?? 0.002;
    this.wearRate = options.wearRate ?? 0.3;
    this.known = model?.events ?? {};
    this.codes = Object.keys(this.known);
  }

  /** The events of one tick, given each component's wear (0 = new, 1 = failed). */
  eventsAt(ts: number, wear: Readonly<Record<string, number>>): DeviceEventOut[] {
    const out: DeviceEventOut[] = [];
    const known = this.known;
    for (const code of this.codes) {
      const component = known[code]!.component;
      const w = component === undefined ? 0 : (wear[component] ?? 0);
      // Draw for every code every tick, so one code's events do not shift another's.
      const u = this.rng.next();
      if (w > 0 && u < this.wearRate * w * w) {
        out.push(this.event(ts, code, severityForWear(w), component));
      }
    }
    if (this.rng.next() < this.noiseRate) {
      const pool = [...this.codes, ...UNLISTED_CODES];
      const code = pool[this.rng.int(pool.length)]!;
      out.push(this.event(ts, code, 'info', known[code]?.component));
    }
    return out;
  }

  /** The events as one `pdm.event.v1` message on the asset's events topic (single form for one event). */
  message(events: readonly DeviceEventOut[]): { topic: string; payload: string } {
    const body =
      events.length === 1
        ? { schema: EVENT_SCHEMA, assetId: this.assetId, ...events[0] }
        : { schema: EVENT_SCHEMA, assetId: this.assetId, events };
    return { topic: eventsTopic(this.siteId, this.assetId), payload: JSON.stringify(body) };
  }

  private event(ts: number, code: string, severity: EventSeverity, component: string | undefined): DeviceEventOut {
    this.seq += 1;
    return { ts, seq: this.seq, code, severity, ...(component !== undefined ? { component } : {}) };
  }
}
