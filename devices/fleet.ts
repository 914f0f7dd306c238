/**
 * A simulated fleet: assets of the catalog's models over several sites, each producing telemetry on
 * our MQTT topic contract. Some assets carry an injected degradation that ends in a failure, after which
 * the simulated crew replaces the part (a maintenance message) and wear starts again from zero. With
 * `events`, assets also log device events (`devices/events.ts`) that grow with wear.
 */

import { findAssetModel } from '../lambdas/core/catalog/index.ts';
import type { AssetInfo } from '../lambdas/core/catalog/types.ts';
import { MAINTENANCE_SCHEMA, TELEMETRY_SCHEMA } from '../lambdas/core/contract/telemetry.ts';
import { maintenanceTopic, telemetryTopic } from '../lambdas/core/contract/topics.ts';
import {
  AssetRealism,
  DeliveryFaults,
  type InjectedFault,
  type Outgoing,
  type RealismOptions,
  round4,
  validateRealism,
} from './faults.ts';
import { AssetEventLog, type DeviceEventOptions } from './events.ts';
import { machineReadings, pumpReadings, turbofanReadings, type Wear } from './physics.ts';
import { Rng, seedFor } from './rng.ts';
import { type DriftScenario, DriftShift } from './scenario.ts';

export interface Degradation {
  readonly component: string;
  /** Tick at which wear starts to grow, and tick at which the part fails (wear = 1). */
  readonly startTick: number;
  readonly failTick: number;
}

export interface FleetAsset extends AssetInfo {
  readonly degradation?: Degradation;
}

export interface FleetOptions {
  /** @default 12 */
  readonly assets?: number;
  /** @default 1 */
  readonly seed?: number;
  /** @default ['centrifugal-pump', 'industrial-machine', 'turbofan'] */
  readonly models?: readonly string[];
  /** @default 3 */
  readonly sites?: number;
  /** Share of assets with an injected degradation. @default 0.25 */
  readonly failingShare?: number;
  /** Ticks over which a degradation runs from onset to failure. @default 120 */
  readonly degradationTicks?: number;
}

const FAILING_COMPONENT: Record<string, string> = {
  'centrifugal-pump': 'bearing',
  'industrial-machine': 'comp4',
  turbofan: 'hpc',
};

const PREFIX: Record<string, string> = {
  'centrifugal-pump': 'pump',
  'industrial-machine': 'machine',
  turbofan: 'engine',
};

export function createFleet(options: FleetOptions = {}): FleetAsset[] {
  const count = options.assets ?? 12;
  const models = options.models ?? ['centrifugal-pump', 'industrial-machine', 'turbofan'];
  const sites = options.sites ?? 3;
  const rng = new Rng(seedFor(options.seed ?? 1, 'fleet'));
  const failing = Math.round(count * (options.failingShare ?? 0.25));
  const span = options.degradationTicks ?? 120;
  const fleet: FleetAsset[] = [];
  for (let i = 0; i < count; i++) {
    const modelId = models[i % models.length]!;
    const asset: FleetAsset = {
      assetId: `${PREFIX[modelId] ?? 'asset'}-${String(i + 1).padStart(3, '0')}`,
      siteId: `site-${String.fromCharCode(97 + (i % sites))}`,
      modelId,
      // Spread failing assets over the fleet so every model gets some.
      ...(i < failing
        ? {
            degradation: {
              component: FAILING_COMPONENT[modelId] ?? 'unknown',
              startTick: 20 + rng.int(30),
              failTick: 20 + span + rng.int(40),
            },
          }
        : {}),
    };
    fleet.push(asset);
  }
  return fleet;
}

export interface DeviceMessage {
  readonly topic: string;
  readonly payload: string;
  readonly assetId: string;
}

export interface SimulatorOptions {
  readonly seed?: number;
  /** Epoch ms of the first tick. @default 2026-01-01T00:00:00Z */
  readonly start?: number;
  /** Simulated time between samples of time-clock assets. @default 10 minutes */
  readonly intervalMs?: number;
  /** Samples a device buffers into one message. @default 1 */
  readonly samplesPerMessage?: number;
  /** Probability that a message is damaged (bad value, malformed JSON, unknown sensor). @default 0 */
  readonly faultRate?: number;
  /**
   * Opt-in sensor, clock and delivery faults with recorded ground truth (see `devices/faults.ts`).
   * Absent or `{}`: the output is exactly what it was before realism existed.
   * @default undefined
   */
  readonly realism?: RealismOptions;
  /**
   * Opt-in device events (`pdm.event.v1` on the events topic): `true` for the defaults of
   * {@link DeviceEventOptions}. Absent or `false`: the output is exactly what it was before events existed.
   * @default undefined
   */
  readonly events?: boolean | DeviceEventOptions;
  /**
   * Opt-in scenario (`devices/scenario.ts`): `{ name: 'drift', atTick }` shifts the fleet's operating
   * regime and recalibrates some sensors from `atTick` on, and makes wear recur after each replacement.
   * Absent: the default fleet, exactly as before scenarios existed.
   * @default undefined
   */
  readonly scenario?: DriftScenario;
}

interface RealismRuntime {
  readonly perAsset: ReadonlyMap<string, AssetRealism>;
  readonly delivery: DeliveryFaults;
  readonly truth: InjectedFault[];
}

interface AssetRuntime {
  readonly asset: FleetAsset;
  readonly rng: Rng;
  seq: number;
  /** Tick at which the current part was installed (wear restarts from there). */
  installedTick: number;
  buffer: Array<{ ts: number; seq: number; readings: Record<string, number> }>;
  failed: boolean;
  /** The asset's own manufacturing variation (standard normal), fixed for its life. */
  readonly variation: number;
  /** The wear under way when wear recurs (drift scenario): the fleet's degradation, then the next ones. */
  schedule?: Degradation;
}

/** Generates device messages tick by tick; deterministic for a seed. */
export class FleetSimulator {
  private readonly runtimes: AssetRuntime[];
  private readonly start: number;
  private readonly interval: number;
  private readonly perMessage: number;
  private readonly faultRate: number;
  private readonly faults: Rng;
  private readonly realism: RealismRuntime | undefined;
  private readonly eventLogs: ReadonlyMap<string, AssetEventLog> | undefined;
  private readonly shift: DriftShift | undefined;
  tick = 0;

  constructor(
    readonly fleet: readonly FleetAsset[],
    options: SimulatorOptions = {},
  ) {
    const seed = options.seed ?? 1;
    this.start = options.start ?? Date.UTC(2026, 0, 1);
    this.interval = options.intervalMs ?? 600_000;
    this.perMessage = options.samplesPerMessage ?? 1;
    this.faultRate = options.faultRate ?? 0;
    this.faults = new Rng(seedFor(seed, 'faults'));
    this.shift = options.scenario ? new DriftShift(options.scenario, fleet, seed) : undefined;
    this.runtimes = fleet.map((asset) => {
      const rng = new Rng(seedFor(seed, asset.assetId));
      const rt: AssetRuntime = { asset, rng, seq: 0, installedTick: 0, buffer: [], failed: false, variation: rng.normal() };
      if (this.shift && asset.degradation) rt.schedule = asset.degradation;
      return rt;
    });
    if (options.events) {
      const eventOptions = options.events === true ? {} : options.events;
      this.eventLogs = new Map(
        fleet.map((asset) => [
          asset.assetId,
          new AssetEventLog(asset.assetId, asset.siteId, findAssetModel(asset.modelId), eventOptions, seed),
        ]),
      );
    }
    if (options.realism) {
      validateRealism(options.realism);
      const truth: InjectedFault[] = [];
      const record = (f: InjectedFault) => {
        truth.push(f);
      };
      const perAsset = new Map<string, AssetRealism>();
      for (const asset of fleet)
        perAsset.set(
          asset.assetId,
          new AssetRealism(asset.assetId, findAssetModel(asset.modelId), options.realism, seed, record),
        );
      this.realism = { perAsset, delivery: new DeliveryFaults(options.realism, seed, record), truth };
    }
  }

  /** Simulated time between ticks (ms); a client pacing ticks in real time divides it by its speed. */
  get intervalMs(): number {
    return this.interval;
  }

  /**
   * Ground truth of the realism faults injected so far, in the order they were injected (empty without
   * `realism`). See {@link InjectedFault}.
   */
  get groundTruth(): readonly InjectedFault[] {
    return this.realism?.truth ?? [];
  }

  /** Returns the ground truth recorded since the last call and forgets it (bounded memory on long runs). */
  takeGroundTruth(): InjectedFault[] {
    if (!this.realism) return [];
    return this.realism.truth.splice(0, this.realism.truth.length);
  }

  /** Messages held back by `realism.outOfOrder` or `realism.duplicates` that are still undelivered. */
  get pendingMessages(): number {
    return this.realism?.delivery.pending ?? 0;
  }

  /**
   * Delivers every message still held back (out-of-order or pending re-sends), as a device does when it
   * reconnects at the end of a run. Without realism, returns nothing. Samples buffered towards
   * `samplesPerMessage` stay buffered, as before.
   */
  flush(): DeviceMessage[] {
    if (!this.realism) return [];
    const out: Outgoing[] = [];
    this.realism.delivery.release(Number.POSITIVE_INFINITY, this.now, out);
    return out.map(toDeviceMessage);
  }

  /** Simulated wall-clock time of the current tick. */
  get now(): number {
    return this.start + this.tick * this.interval;
  }

  /** Wear of each component of an asset at the current tick. */
  wearOf(rt: AssetRuntime): Wear {
    const d = rt.schedule ?? rt.asset.degradation;
    if (!d || rt.failed) return {};
    const progress = (this.tick - Math.max(d.startTick, rt.installedTick)) / (d.failTick - d.startTick);
    return { [d.component]: Math.min(1, Math.max(0, progress)) };
  }

  /** Advances one tick and returns the messages devices publish during it. */
  step(): DeviceMessage[] {
    const messages: DeviceMessage[] = [];
    const ts = this.now;
    for (const rt of this.runtimes) {
      const { asset } = rt;
      const d = rt.schedule ?? asset.degradation;
      if (d && !rt.failed && this.tick >= d.failTick && rt.installedTick < d.failTick) {
        // The part fails; the crew replaces it: a maintenance message, and wear starts again.
        rt.installedTick = this.tick;
        messages.push({
          assetId: asset.assetId,
          topic: maintenanceTopic(asset.siteId, asset.assetId),
          payload: JSON.stringify({
            schema: MAINTENANCE_SCHEMA,
            assetId: asset.assetId,
            ts,
            kind: 'replacement',
            component: d.component,
          }),
        });
        if (rt.schedule && this.shift) {
          // Wear recurs: the new part runs healthy for a while, then wears out over the same span.
          const start = this.tick + this.shift.nextHealthySpell(asset.assetId);
          rt.schedule = { component: d.component, startTick: start, failTick: start + (d.failTick - d.startTick) };
        } else rt.failed = true;
      }
      const log = this.eventLogs?.get(asset.assetId);
      if (log) {
        // The controller logs what it saw during the tick before the tick's sample goes out.
        const events = log.eventsAt(ts, this.wearOf(rt));
        if (events.length > 0) messages.push({ assetId: asset.assetId, ...log.message(events) });
      }
      rt.seq += 1;
      if (this.realism) this.pushRealSample(rt, ts);
      else rt.buffer.push({ ts, seq: rt.seq, readings: this.readingsFor(rt) });
      if (rt.buffer.length < this.perMessage) continue;
      const samples = rt.buffer.map((s) => ({ ...s, readings: roundReadings(s.readings) }));
      rt.buffer = [];
      const body =
        samples.length === 1
          ? { schema: TELEMETRY_SCHEMA, assetId: asset.assetId, ...samples[0] }
          : { schema: TELEMETRY_SCHEMA, assetId: asset.assetId, samples };
      const payload = JSON.stringify(body);
      const sent = this.maybeDamage(payload, body);
      if (this.realism) {
        const out: Outgoing[] = [];
        this.realism.delivery.offer(
          {
            assetId: asset.assetId,
            topic: telemetryTopic(asset.siteId, asset.assetId),
            payload: sent,
            damaged: sent !== payload,
            samples: samples.map((s) => ({ seq: s.seq, ts: s.ts, tick: this.tick - (rt.seq - s.seq) })),
          },
          this.tick,
          ts,
          out,
        );
        for (const m of out) messages.push(toDeviceMessage(m));
        continue;
      }
      messages.push({
        assetId: asset.assetId,
        topic: telemetryTopic(asset.siteId, asset.assetId),
        payload: sent,
      });
    }
    if (this.realism) {
      const out: Outgoing[] = [];
      this.realism.delivery.release(this.tick, ts, out);
      for (const m of out) messages.push(toDeviceMessage(m));
    }
    this.tick += 1;
    return messages;
  }

  /** One sample through the asset's realism: rounded first, so faults act on the values the payload carries. */
  private pushRealSample(rt: AssetRuntime, ts: number): void {
    const realism = this.realism!.perAsset.get(rt.asset.assetId)!;
    const readings = roundReadings(this.readingsFor(rt));
    realism.apply(readings, this.tick, rt.seq, this.tick * this.interval);
    rt.buffer.push({ ts: realism.stamp(ts), seq: rt.seq, readings });
  }

  private readingsFor(rt: AssetRuntime): Record<string, number> {
    const readings = this.baseReadings(rt);
    if (this.shift?.active(this.tick)) this.shift.apply(rt.asset.assetId, rt.asset.modelId, readings);
    return readings;
  }

  private baseReadings(rt: AssetRuntime): Record<string, number> {
    const wear = this.wearOf(rt);
    switch (rt.asset.modelId) {
      case 'centrifugal-pump': {
        const hours = (this.tick * this.interval) / 3_600_000;
        // One noise draw either way, so the shift does not move the asset's random stream.
        const z = rt.rng.normal();
        const load = this.shift?.active(this.tick) ? this.shift.pumpLoad(hours, z) : 0.7 + 0.2 * Math.sin((2 * Math.PI * hours) / 24) + 0.03 * z;
        return pumpReadings(Math.min(1, Math.max(0.1, load)), wear, rt.rng);
      }
      case 'industrial-machine':
        return machineReadings(wear, rt.rng);
      default:
        return turbofanReadings(wear, rt.rng, rt.variation);
    }
  }

  private maybeDamage(payload: string, body: object): string {
    if (this.faultRate <= 0 || this.faults.next() >= this.faultRate) return payload;
    switch (this.faults.int(3)) {
      case 0:
        return payload.slice(0, Math.max(1, Math.floor(payload.length / 2))); // truncated in transit
      case 1:
        return JSON.stringify(body).replace(/"readings":\{/, '"readings":{"mystery":1,'); // unknown sensor
      default:
        return JSON.stringify(body).replace(/("readings":\{"[A-Za-z0-9_]+":)[-0-9.e]+/, '$1 99999'); // out of range
    }
  }
}

function roundReadings(readings: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(readings)) out[k] = round4(v);
  return out;
}

function toDeviceMessage(m: Outgoing): DeviceMessage {
  return { assetId: m.assetId, topic: m.topic, payload: m.payload };
}

/** Asset lookup over a fleet, as the registry would answer it. */
export function fleetLookup(fleet: readonly FleetAsset[]): (assetId: string) => AssetInfo | undefined {
  const byId = new Map(fleet.map((a) => [a.assetId, a]));
  return (assetId) => byId.get(assetId);
}
