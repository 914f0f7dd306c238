/**
 * Opt-in realism for the fleet simulator: the sensor and delivery faults real fleets show (stuck and
 * missing sensors, spikes, calibration drift, skewed device clocks, out-of-order and repeated delivery).
 * Every fault draws from its own seeded generator per asset, so enabling one fault never changes where
 * another lands, and the same seed and options replay the same faults.
 */
import { flatlineThreshold, type AssetModel } from '../lambdas/core/catalog/index.ts';
import { DEFAULT_CLEANING_LIMITS } from '../lambdas/core/cleaning/clean.ts';
import type { ReasonCode } from '../lambdas/core/cleaning/reasons.ts';
import { SCREEN_WINDOW } from '../lambdas/core/cleaning/screen.ts';
import { Rng, seedFor } from './rng.ts';

export const FAULT_KINDS = [
  'flatline',
  'spikes',
  'dropouts',
  'drift',
  'clockSkew',
  'outOfOrder',
  'duplicates',
] as const;
/** Names of the realism options, as `--realism` takes them. */
export type RealismKind = (typeof FAULT_KINDS)[number];

/** A fault that lasts a stretch of ticks on one sensor. */
export interface StretchFaultOptions {
  /** Probability, per asset and tick, that a new stretch starts on one sensor. */
  readonly rate: number;
  /** @default 10 (flatline), 3 (dropouts) */
  readonly minTicks?: number;
  /** @default 60 (flatline), 30 (dropouts) */
  readonly maxTicks?: number;
}

export interface SpikeOptions {
  /** Probability, per asset and tick, of one spiked reading. */
  readonly rate: number;
  /**
   * Spike height as a share of the sensor's catalog range (max − min), drawn uniformly in [minSize, maxSize];
   * spikes that leave the range are what cleaning quarantines as `out_of_range`, the others reach features.
   * @default 0.2
   */
  readonly minSize?: number;
  /** @default 1 */
  readonly maxSize?: number;
}

export interface DriftOptions {
  /** Share of assets with one drifting sensor. @default 0.25 */
  readonly share?: number;
  /** Drift per simulated day, as a share of the sensor's catalog range. @default 0.01 */
  readonly perDay?: number;
}

export interface ClockSkewOptions {
  /** Each device's clock is off by a constant drawn uniformly in [−maxOffsetMs, maxOffsetMs]. */
  readonly maxOffsetMs: number;
  /** Per-sample jitter, uniform in [−jitterMs, jitterMs], rounded to whole ms. @default 0 */
  readonly jitterMs?: number;
}

export interface DelayOptions {
  /** Probability, per telemetry message, of the fault. */
  readonly rate: number;
  /**
   * Out-of-order: a held message is released after 1..maxDelayTicks ticks (default 5).
   * Duplicates: the re-send follows after 0..maxDelayTicks ticks (0 = right after the original; default 2).
   */
  readonly maxDelayTicks?: number;
}

/** Realism faults; each is off unless given. `{}` (or no `realism`) leaves the output unchanged. */
export interface RealismOptions {
  /** A sensor repeats its last value for a stretch (a stuck transmitter). */
  readonly flatline?: StretchFaultOptions;
  /** Single-sample spikes on one sensor (electrical noise, a loose connector). */
  readonly spikes?: SpikeOptions;
  /** A sensor is missing from samples for a stretch (a sensor that stops answering its poll). */
  readonly dropouts?: StretchFaultOptions;
  /** Slow calibration drift of one sensor on some assets. */
  readonly drift?: DriftOptions;
  /** Device clocks off by a constant, plus jitter, on `ts`. */
  readonly clockSkew?: ClockSkewOptions;
  /** Telemetry messages held back and released after later ones. */
  readonly outOfOrder?: DelayOptions;
  /** Telemetry messages delivered twice, as QoS 1 does when a PUBACK is lost. */
  readonly duplicates?: DelayOptions;
}

/** The options `--realism` enables per kind: rates that show every fault within a few hundred ticks. */
export const REALISM_PRESET: Readonly<Required<RealismOptions>> = Object.freeze({
  flatline: { rate: 0.005, minTicks: 10, maxTicks: 60 },
  spikes: { rate: 0.01, minSize: 0.2, maxSize: 1 },
  dropouts: { rate: 0.01, minTicks: 3, maxTicks: 30 },
  drift: { share: 0.25, perDay: 0.01 },
  clockSkew: { maxOffsetMs: 2_000, jitterMs: 50 },
  outOfOrder: { rate: 0.02, maxDelayTicks: 5 },
  duplicates: { rate: 0.02, maxDelayTicks: 2 },
});

/** Realism options with the preset of each named kind (all kinds when none are named). */
export function realismPreset(kinds: readonly RealismKind[] = FAULT_KINDS): RealismOptions {
  const out: Record<string, unknown> = {};
  for (const kind of kinds) out[kind] = REALISM_PRESET[kind];
  return out as RealismOptions;
}

/** Realism options that cannot be simulated; the message names the option. */
export class RealismOptionsError extends Error {
  override readonly name: string = 'RealismOptionsError';
}

/** Throws {@link RealismOptionsError} for rates outside [0, 1], negative sizes or inverted tick ranges. */
export function validateRealism(options: RealismOptions): void {
  const rate = (path: string, v: number | undefined) => {
    if (v !== undefined && !(v >= 0 && v <= 1))
      throw new RealismOptionsError(`realism.${path} must be between 0 and 1, got ${v}`);
  };
  const nonNegInt = (path: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0))
      throw new RealismOptionsError(`realism.${path} must be a non-negative integer, got ${v}`);
  };
  const nonNeg = (path: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0))
      throw new RealismOptionsError(`realism.${path} must be a finite number ≥ 0, got ${v}`);
  };
  for (const key of ['flatline', 'dropouts'] as const) {
    const o = options[key];
    if (!o) continue;
    rate(`${key}.rate`, o.rate);
    nonNegInt(`${key}.minTicks`, o.minTicks);
    nonNegInt(`${key}.maxTicks`, o.maxTicks);
    const [lo, hi] = stretchRange(key, o);
    if (lo < 1 || hi < lo)
      throw new RealismOptionsError(`realism.${key} needs 1 ≤ minTicks ≤ maxTicks, got ${lo}..${hi}`);
  }
  if (options.spikes) {
    rate('spikes.rate', options.spikes.rate);
    nonNeg('spikes.minSize', options.spikes.minSize);
    nonNeg('spikes.maxSize', options.spikes.maxSize);
    if ((options.spikes.minSize ?? 0.2) > (options.spikes.maxSize ?? 1))
      throw new RealismOptionsError('realism.spikes needs minSize ≤ maxSize');
  }
  if (options.drift) {
    rate('drift.share', options.drift.share);
    if (options.drift.perDay !== undefined && !Number.isFinite(options.drift.perDay))
      throw new RealismOptionsError(`realism.drift.perDay must be finite, got ${options.drift.perDay}`);
  }
  if (options.clockSkew) {
    nonNeg('clockSkew.maxOffsetMs', options.clockSkew.maxOffsetMs);
    nonNeg('clockSkew.jitterMs', options.clockSkew.jitterMs);
  }
  for (const key of ['outOfOrder', 'duplicates'] as const) {
    const o = options[key];
    if (!o) continue;
    rate(`${key}.rate`, o.rate);
    nonNegInt(`${key}.maxDelayTicks`, o.maxDelayTicks);
    if (key === 'outOfOrder' && o.maxDelayTicks === 0)
      throw new RealismOptionsError('realism.outOfOrder.maxDelayTicks must be at least 1');
  }
}

function stretchRange(kind: 'flatline' | 'dropouts', o: StretchFaultOptions): [number, number] {
  return kind === 'flatline' ? [o.minTicks ?? 10, o.maxTicks ?? 60] : [o.minTicks ?? 3, o.maxTicks ?? 30];
}

/** Which realism fault a ground-truth record describes. */
export type FaultKind = 'flatline' | 'spike' | 'dropout' | 'drift' | 'clockSkew' | 'outOfOrder' | 'duplicate';

/**
 * Ground truth of one injected fault: per reading (flatline, spike, dropout, drift leaving the range),
 * per sample (clock skew beyond the cleaning limits, out-of-order, duplicate) or per device (the drift
 * and clock offset an asset was given; those have no `seq`).
 */
export interface InjectedFault {
  readonly kind: FaultKind;
  readonly assetId: string;
  /** Tick at which the affected sample was generated (for device records: 0). */
  readonly tick: number;
  readonly seq?: number;
  readonly sensor?: string;
  /**
   * What the cleaning pipeline (`cleanMessage` + `screenSamples` with default limits) does with the
   * reading or sample, when it receives each message at the simulated time of the tick it is delivered,
   * with `faultRate` 0 and this fault acting alone: `accepted`, or the quarantine reason. Absent on
   * device records.
   */
  readonly expect?: ReasonCode | 'accepted';
  /** Human-readable account, e.g. `vibration stuck at 2.41 (run 31, limit 30)`. */
  readonly detail: string;
}

interface Stretch {
  remaining: number;
  /** Flatline: the value the sensor repeats. */
  value: number;
}

/**
 * Sensor faults and clock of one asset. Readings it receives are already rounded to the payload's
 * precision, so the runs it counts are the runs the pipeline sees.
 */
export class AssetRealism {
  /** Constant clock offset of this device (ms). */
  readonly clockOffsetMs: number;
  private readonly sensors: readonly string[];
  private readonly flatlines = new Map<string, Stretch>();
  private readonly dropouts = new Map<string, Stretch>();
  /** Last in-range value of each sensor as emitted, and how many consecutive samples carried it. */
  private readonly runs = new Map<string, { value: number; run: number }>();
  private readonly driftSensor: string | undefined;
  private readonly driftPerMs: number;
  private readonly rngFlat: Rng;
  private readonly rngSpike: Rng;
  private readonly rngDrop: Rng;
  private readonly rngClock: Rng;

  constructor(
    readonly assetId: string,
    private readonly model: AssetModel | undefined,
    private readonly options: RealismOptions,
    seed: number,
    private readonly record: (fault: InjectedFault) => void,
  ) {
    // Faults go only to sensors that measure something (set-points are constant by design).
    this.sensors = model
      ? Object.entries(model.sensors)
          .filter(([, spec]) => flatlineThreshold(spec) !== null)
          .map(([name]) => name)
      : [];
    this.rngFlat = new Rng(seedFor(seed, `flatline:${assetId}`));
    this.rngSpike = new Rng(seedFor(seed, `spikes:${assetId}`));
    this.rngDrop = new Rng(seedFor(seed, `dropouts:${assetId}`));
    this.rngClock = new Rng(seedFor(seed, `clock:${assetId}`));

    const drift = options.drift;
    const rngDrift = new Rng(seedFor(seed, `drift:${assetId}`));
    if (drift && this.sensors.length > 0 && rngDrift.next() < (drift.share ?? 0.25)) {
      const sensor = this.sensors[rngDrift.int(this.sensors.length)]!;
      const spec = model!.sensors[sensor]!;
      const sign = rngDrift.next() < 0.5 ? -1 : 1;
      this.driftSensor = sensor;
      this.driftPerMs = (sign * (drift.perDay ?? 0.01) * (spec.max - spec.min)) / 86_400_000;
      record({
        kind: 'drift',
        assetId,
        tick: 0,
        sensor,
        detail: `${sensor} drifts ${fmt(this.driftPerMs * 86_400_000)} per simulated day`,
      });
    } else {
      this.driftSensor = undefined;
      this.driftPerMs = 0;
    }

    const skew = options.clockSkew;
    this.clockOffsetMs = skew ? Math.round((this.rngClock.next() * 2 - 1) * skew.maxOffsetMs) : 0;
    if (skew)
      record({
        kind: 'clockSkew',
        assetId,
        tick: 0,
        detail: `clock offset ${this.clockOffsetMs} ms, jitter ±${skew.jitterMs ?? 0} ms`,
      });
  }

  /** The `ts` this device stamps on a sample taken at true time `trueTs`. */
  stamp(trueTs: number): number {
    const skew = this.options.clockSkew;
    if (!skew) return trueTs;
    const jitter = skew.jitterMs ? Math.round((this.rngClock.next() * 2 - 1) * skew.jitterMs) : 0;
    return trueTs + this.clockOffsetMs + jitter;
  }

  /**
   * Applies drift, flatline, spikes and dropouts (in that order) to one sample's rounded readings, in
   * place, and records the ground truth. `elapsedMs` is simulated time since the start (drift grows with it).
   */
  apply(readings: Record<string, number>, tick: number, seq: number, elapsedMs: number): void {
    const o = this.options;
    const model = this.model;
    if (!model) return;
    if (this.driftSensor !== undefined && readings[this.driftSensor] !== undefined) {
      const name = this.driftSensor;
      readings[name] = round4(readings[name]! + this.driftPerMs * elapsedMs);
      const spec = model.sensors[name]!;
      if (readings[name]! < spec.min || readings[name]! > spec.max)
        this.record({
          kind: 'drift',
          assetId: this.assetId,
          tick,
          seq,
          sensor: name,
          expect: 'out_of_range',
          detail: `${name}=${readings[name]} drifted outside [${spec.min}, ${spec.max}]`,
        });
    }
    if (o.flatline) {
      const [lo, hi] = stretchRange('flatline', o.flatline);
      if (this.rngFlat.next() < o.flatline.rate) {
        const free = this.sensors.filter((s) => !this.flatlines.has(s) && readings[s] !== undefined);
        if (free.length > 0) {
          const sensor = free[this.rngFlat.int(free.length)]!;
          const value = this.runs.get(sensor)?.value ?? readings[sensor]!;
          this.flatlines.set(sensor, { remaining: lo + this.rngFlat.int(hi - lo + 1), value });
        }
      }
      for (const [sensor, stretch] of this.flatlines) {
        if (readings[sensor] !== undefined) readings[sensor] = stretch.value;
      }
    }
    if (o.spikes && this.rngSpike.next() < o.spikes.rate) {
      const free = this.sensors.filter((s) => !this.flatlines.has(s) && readings[s] !== undefined);
      const lo = o.spikes.minSize ?? 0.2;
      const hi = o.spikes.maxSize ?? 1;
      const size = lo + (hi - lo) * this.rngSpike.next();
      const sign = this.rngSpike.next() < 0.5 ? -1 : 1;
      if (free.length > 0) {
        const sensor = free[this.rngSpike.int(free.length)]!;
        const spec = model.sensors[sensor]!;
        const before = readings[sensor]!;
        const value = round4(before + sign * size * (spec.max - spec.min));
        readings[sensor] = value;
        const outside = value < spec.min || value > spec.max;
        this.record({
          kind: 'spike',
          assetId: this.assetId,
          tick,
          seq,
          sensor,
          expect: outside ? 'out_of_range' : 'accepted',
          detail: `${sensor} ${before} → ${value} (range [${spec.min}, ${spec.max}])`,
        });
      }
    }
    if (o.dropouts) {
      const [lo, hi] = stretchRange('dropouts', o.dropouts);
      if (this.rngDrop.next() < o.dropouts.rate) {
        const free = this.sensors.filter((s) => !this.dropouts.has(s));
        if (free.length > 0) {
          const sensor = free[this.rngDrop.int(free.length)]!;
          this.dropouts.set(sensor, { remaining: lo + this.rngDrop.int(hi - lo + 1), value: 0 });
        }
      }
      for (const sensor of this.dropouts.keys()) {
        if (readings[sensor] === undefined) continue;
        // A sample keeps at least one reading: an empty one is a different fault (`no_valid_readings`).
        let left = 0;
        for (const _ in readings) left++;
        if (left <= 1) break;
        delete readings[sensor];
        this.record({
          kind: 'dropout',
          assetId: this.assetId,
          tick,
          seq,
          sensor,
          expect: 'accepted',
          detail: `${sensor} missing from the sample`,
        });
      }
    }
    this.countRuns(readings, tick, seq);
    endStretches(this.flatlines);
    endStretches(this.dropouts);
  }

  /** Follows runs of equal values as the pipeline's flatline check does, and records stuck readings. */
  private countRuns(readings: Record<string, number>, tick: number, seq: number): void {
    const model = this.model!;
    for (const sensor of this.sensors) {
      const value = readings[sensor];
      if (value === undefined) continue;
      const spec = model.sensors[sensor]!;
      if (value < spec.min || value > spec.max) continue; // quarantined before the flatline check sees it
      const entry = this.runs.get(sensor);
      let run = 1;
      if (entry === undefined) this.runs.set(sensor, { value, run });
      else if (entry.value === value) run = ++entry.run;
      else {
        entry.value = value;
        entry.run = 1;
      }
      if (!this.flatlines.has(sensor)) continue;
      const limit = flatlineThreshold(spec)!;
      this.record({
        kind: 'flatline',
        assetId: this.assetId,
        tick,
        seq,
        sensor,
        expect: run >= limit ? 'flatline' : 'accepted',
        detail: `${sensor} stuck at ${value} (run ${run}, limit ${limit})`,
      });
    }
  }
}

function endStretches(stretches: Map<string, Stretch>): void {
  for (const [sensor, stretch] of stretches) if (--stretch.remaining <= 0) stretches.delete(sensor);
}

/** Same rounding as the payload (4 decimals); idempotent, so rounding again when the message is built changes nothing. */
export function round4(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}

function fmt(v: number): string {
  return (v >= 0 ? '+' : '') + v.toPrecision(3);
}

/** A telemetry message on its way out, with what delivery faults need to know about its samples. */
export interface Outgoing {
  readonly assetId: string;
  readonly topic: string;
  readonly payload: string;
  /** Damaged by `faultRate`: delivered as is, never held or repeated (its fate is its damage). */
  readonly damaged: boolean;
  readonly samples: readonly { readonly seq: number; readonly ts: number; readonly tick: number }[];
}

interface Held {
  readonly releaseTick: number;
  readonly order: number;
  readonly message: Outgoing;
  readonly duplicate: boolean;
  readonly heldTicks: number;
}

/**
 * Delivery faults: holds messages back and repeats some, and decides what the pipeline will make of
 * each late or repeated sample from the highest seq already delivered for its asset.
 */
export class DeliveryFaults {
  private readonly held: Held[] = [];
  private readonly highest = new Map<string, number>();
  private readonly rngOrder: Rng;
  private readonly rngDup: Rng;
  private order = 0;

  constructor(
    private readonly options: RealismOptions,
    seed: number,
    private readonly record: (fault: InjectedFault) => void,
  ) {
    this.rngOrder = new Rng(seedFor(seed, 'outOfOrder'));
    this.rngDup = new Rng(seedFor(seed, 'duplicates'));
  }

  /** Messages held or scheduled for a re-send. */
  get pending(): number {
    return this.held.length;
  }

  /** A new telemetry message at `tick`: appended to `out` now, or held back. */
  offer(message: Outgoing, tick: number, now: number, out: Outgoing[]): void {
    const ooo = this.options.outOfOrder;
    if (ooo && !message.damaged && this.rngOrder.next() < ooo.rate) {
      const delay = 1 + this.rngOrder.int(ooo.maxDelayTicks ?? 5);
      this.held.push({ releaseTick: tick + delay, order: this.order++, message, duplicate: false, heldTicks: delay });
      return;
    }
    this.deliver(message, tick, now, out, false);
  }

  /** Appends to `out` everything due at `tick` (everything when `tick` is Infinity). */
  release(tick: number, now: number, out: Outgoing[]): void {
    for (;;) {
      let next = -1;
      for (let i = 0; i < this.held.length; i++) {
        const h = this.held[i]!;
        if (h.releaseTick > tick) continue;
        const best = this.held[next];
        if (!best || h.releaseTick < best.releaseTick || (h.releaseTick === best.releaseTick && h.order < best.order))
          next = i;
      }
      if (next < 0) return;
      const [h] = this.held.splice(next, 1);
      this.deliver(h!.message, tick, now, out, h!.duplicate, h!.heldTicks);
    }
  }

  private deliver(m: Outgoing, tick: number, now: number, out: Outgoing[], duplicate: boolean, heldTicks = 0): void {
    const before = this.highest.get(m.assetId) ?? -1;
    const kind: FaultKind | undefined = duplicate ? 'duplicate' : heldTicks > 0 ? 'outOfOrder' : undefined;
    for (const s of m.samples) {
      const ahead = s.ts - now;
      // Timestamp checks run in cleaning, before the seq checks: a sample that fails them never counts as seen.
      const tsReason: ReasonCode | undefined =
        ahead > DEFAULT_CLEANING_LIMITS.maxFutureSkewMs
          ? 'future_timestamp'
          : -ahead > DEFAULT_CLEANING_LIMITS.maxAgeMs
            ? 'stale_timestamp'
            : undefined;
      if (kind === undefined && tsReason === undefined) continue;
      const late = s.seq <= before - SCREEN_WINDOW;
      const expect: ReasonCode | 'accepted' =
        tsReason ?? (late ? 'late_sample' : duplicate ? 'duplicate_seq' : 'accepted');
      const detail =
        kind === 'duplicate'
          ? `re-sent at tick ${tick}`
          : kind === 'outOfOrder'
            ? `held ${heldTicks} ticks; highest seq delivered before it: ${before}`
            : `ts is ${ahead} ms from the time of delivery`;
      this.record({ kind: kind ?? 'clockSkew', assetId: m.assetId, tick: s.tick, seq: s.seq, expect, detail });
    }
    let top = before;
    for (const s of m.samples) if (s.seq > top) top = s.seq;
    this.highest.set(m.assetId, top);
    out.push(m);

    const dup = this.options.duplicates;
    if (!duplicate && dup && !m.damaged && this.rngDup.next() < dup.rate) {
      const delay = this.rngDup.int((dup.maxDelayTicks ?? 2) + 1);
      // Delay 0 goes out at the end of this tick's messages: the re-send after a lost PUBACK.
      this.held.push({ releaseTick: tick + delay, order: this.order++, message: m, duplicate: true, heldTicks: delay });
    }
  }
}
