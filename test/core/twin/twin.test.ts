import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFleet, type FleetAsset, FleetSimulator, fleetLookup } from '../../../devices/fleet.ts';
import { DEFAULT_BASELINES } from '../../../lambdas/core/anomaly/index.ts';
import { CENTRIFUGAL_PUMP, getAssetModel } from '../../../lambdas/core/catalog/index.ts';
import { maintenanceTopic } from '../../../lambdas/core/contract/topics.ts';
import { featureNames } from '../../../lambdas/core/features/index.ts';
import type { RawMessage } from '../../../lambdas/core/pipeline.ts';
import { defaultPolicies, processMessages } from '../../../lambdas/core/pipeline.ts';
import type { Twin } from '../../../lambdas/core/twin/twin.ts';
import {
  completeBatch,
  logicalState,
  PredictionCountError,
  prepareBatch,
} from '../../../lambdas/core/twin/twin.ts';

const baselineFor = (m: { id: string }) => DEFAULT_BASELINES[m.id]!;

/** Runs the simulator for `ticks` and returns its messages as the pipeline receives them. */
function stream(fleet: FleetAsset[], ticks: number, seed = 3): RawMessage[] {
  const sim = new FleetSimulator(fleet, { seed });
  const out: RawMessage[] = [];
  for (let t = 0; t < ticks; t++) {
    const receivedAt = sim.now + 1_000;
    for (const m of sim.step())
      // Message ids are raw stream positions, as the clean function passes them (Kinesis sequence numbers).
      out.push({ topic: m.topic, payload: m.payload, messageId: String(out.length + 1), receivedAt });
  }
  return out;
}

function runAll(messages: RawMessage[], cuts: number[], lookupAsset: ReturnType<typeof fleetLookup>) {
  const twins = new Map<string, Twin>();
  const alertIds: string[] = [];
  let from = 0;
  for (const to of [...cuts, messages.length]) {
    const result = processMessages(messages.slice(from, to), twins, { lookupAsset, baselineFor });
    for (const [id, twin] of result.twins) twins.set(id, twin);
    alertIds.push(...result.alerts.map((a) => a.alertId));
    from = to;
  }
  return { twins, alertIds };
}

const pumpFleet: FleetAsset[] = [
  {
    assetId: 'pump-001',
    siteId: 'site-a',
    modelId: 'centrifugal-pump',
    degradation: { component: 'bearing', startTick: 20, failTick: 160 },
  },
  { assetId: 'pump-002', siteId: 'site-b', modelId: 'centrifugal-pump' },
];

describe('twin: early warning', () => {
  it('escalates a degrading pump to WARNING and CRITICAL before it fails, naming the bearing sensors', () => {
    const lookupAsset = fleetLookup(pumpFleet);
    const messages = stream(pumpFleet, 160);
    const { twins } = runAll(messages, [], lookupAsset);
    const result = processMessages(messages, new Map(), { lookupAsset, baselineFor });

    const alerts = result.alerts.filter((a) => a.assetId === 'pump-001' && a.scope === 'asset');
    const critical = alerts.find((a) => a.to === 'CRITICAL');
    expect(alerts.some((a) => a.to === 'WARNING')).toBe(true);
    expect(critical).toBeDefined();
    expect(critical!.seq).toBeLessThan(160);
    expect(critical!.topContributors[0]?.sensor).toMatch(/^(temperature|vibration)$/);
    // No failure model here: the anomaly score drove it, through the bearing, and no saving is claimed.
    expect(critical!.driver).toMatchObject({ signal: 'anomaly' });
    expect(critical!.estimatedCostAvoidedUsd).toBe(0);
    expect(twins.get('pump-001')!.components.bearing!.health.state).toBe('CRITICAL');
    expect(result.alerts.filter((a) => a.assetId === 'pump-002' && a.severity !== 'info')).toEqual([]);
  });
});

describe('twin: idempotency', () => {
  it('changes nothing when the same stream records are applied twice (a pipeline replay)', () => {
    const lookupAsset = fleetLookup(pumpFleet);
    const messages = stream(pumpFleet, 120);
    const first = processMessages(messages, new Map(), { lookupAsset, baselineFor });

    const again = processMessages(messages, first.twins, { lookupAsset, baselineFor });

    expect(again.twins.size).toBe(0);
    expect(again.alerts).toEqual([]);
    // A replay is not a device resend: nothing is quarantined as duplicate_seq for it.
    expect(again.quarantine).toEqual([]);
  });

  it('quarantines as duplicate_seq what a device sends again (new stream records, same seqs)', () => {
    const lookupAsset = fleetLookup(pumpFleet);
    const messages = stream(pumpFleet, 120);
    const first = processMessages(messages, new Map(), { lookupAsset, baselineFor });
    const resent = messages.map((m, i) => ({ ...m, messageId: String(messages.length + i + 1) }));

    const again = processMessages(resent, first.twins, { lookupAsset, baselineFor });

    expect(again.alerts).toEqual([]);
    expect(again.counts.samples.clean).toBe(0);
    expect(again.counts.messages.accepted).toBe(0);
    expect(again.quarantine.length).toBeGreaterThan(0);
    expect(again.quarantine.every((q) => q.reason === 'duplicate_seq')).toBe(true);
  });

  it('reaches the same twins and alerts for any split of the input into batches', () => {
    const fleet = createFleet({ assets: 3, seed: 5, failingShare: 0.67, degradationTicks: 40 });
    const lookupAsset = fleetLookup(fleet);
    const messages = stream(fleet, 90, 5);
    const whole = runAll(messages, [], lookupAsset);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: messages.length - 1 }), { maxLength: 8 }),
        (cutList) => {
          const split = runAll(
            messages,
            [...cutList].sort((a, b) => a - b),
            lookupAsset,
          );
          // Alerts of different assets interleave differently per batch; per asset, history below fixes the order.
          expect([...split.alertIds].sort()).toEqual([...whole.alertIds].sort());
          for (const [id, twin] of whole.twins) {
            expect(JSON.parse(JSON.stringify(logicalState(split.twins.get(id)!)))).toEqual(
              JSON.parse(JSON.stringify(logicalState(twin))),
            );
          }
        },
      ),
      { numRuns: 12 },
    );
  });
});

describe('twin: maintenance', () => {
  it('puts the component in MAINTENANCE, restarts its time-since-maintenance and returns it to NORMAL', () => {
    const fleet: FleetAsset[] = [{ assetId: 'pump-009', siteId: 'site-a', modelId: 'centrifugal-pump' }];
    const lookupAsset = fleetLookup(fleet);
    const before = stream(fleet, 30);
    const at = JSON.parse(before.at(-1)!.payload as string).ts as number;
    const maintenance: RawMessage = {
      topic: maintenanceTopic('site-a', 'pump-009'),
      payload: JSON.stringify({
        schema: 'pdm.maintenance.v1',
        assetId: 'pump-009',
        ts: at,
        kind: 'replacement',
        component: 'seal',
      }),
      messageId: 'maint-1',
      receivedAt: at + 1_000,
    };
    const first = processMessages([...before, maintenance], new Map(), { lookupAsset, baselineFor });
    const twin = first.twins.get('pump-009')!;
    expect(twin.components.seal!.health.state).toBe('MAINTENANCE');
    expect(twin.components.seal!.lastMaintenance).toEqual({ ts: at, t: at, kind: 'replacement' });
    expect(twin.components.bearing!.health.state).toBe('NORMAL');
    expect(
      first.alerts.some((a) => a.scope === 'component' && a.component === 'seal' && a.to === 'MAINTENANCE'),
    ).toBe(true);

    const replayed = processMessages([maintenance], first.twins, { lookupAsset, baselineFor });
    expect(replayed.twins.size).toBe(0);


    // One more hour of telemetry: the settle period ends and the seal is NORMAL again.
    const sim = new FleetSimulator(fleet, { seed: 3 });
    const later: RawMessage[] = [];
    for (let t = 0; t < 40; t++) {
      const receivedAt = sim.now + 1_000;
      for (const m of sim.step())
        if (t >= 30) later.push({ topic: m.topic, payload: m.payload, messageId: `l${t}`, receivedAt });
    }
    const after = processMessages(later, first.twins, { lookupAsset, baselineFor });
    const seal = after.twins.get('pump-009')!.components.seal!;
    expect(seal.health.state).toBe('NORMAL');
    const names = featureNames(CENTRIFUGAL_PUMP);
    const next = JSON.parse(later[0]!.payload as string);
    const prepared = prepareBatch(
      first.twins.get('pump-009'),
      [
        {
          kind: 'sample',
          sample: { ...next, siteId: 'site-a', modelId: 'centrifugal-pump', receivedAt: next.ts },
        },
      ],
      { asset: fleet[0]!, model: CENTRIFUGAL_PUMP, baseline: baselineFor(CENTRIFUGAL_PUMP) },
    );
    const vector = prepared.rows[0]!.vector;
    expect(vector[names.indexOf('since_maint_seal_h')]).toBeCloseTo((next.ts - at) / 3_600_000, 9);
    expect(vector[names.indexOf('since_maint_bearing_h')]).toBeNaN();

    // A second repair of the same part, once it is NORMAL again and past the 6 h alert cooldown, is a new
    // change with its own alert id.
    const again = at + 7 * 3_600_000;
    const repairAgain: RawMessage = {
      ...maintenance,
      payload: (maintenance.payload as string).replace(`"ts":${at}`, `"ts":${again}`),
      messageId: 'maint-2',
      receivedAt: again + 1_000,
    };
    const firstSeal = first.alerts.find((a) => a.component === 'seal' && a.to === 'MAINTENANCE')!;
    const secondSeal = processMessages([repairAgain], after.twins, { lookupAsset, baselineFor }).alerts.find(
      (a) => a.component === 'seal' && a.to === 'MAINTENANCE',
    );
    expect(firstSeal.alertId).toBe(`pump-009:component:seal:m${at}:NORMAL>MAINTENANCE`);
    expect(secondSeal?.alertId).toBe(`pump-009:component:seal:m${again}:NORMAL>MAINTENANCE`);
  });
});

describe('completeBatch', () => {
  it('values an alert by the failure probability, not by the anomaly risk that raised it', () => {
    const model = getAssetModel('centrifugal-pump');
    const fleet: FleetAsset[] = [pumpFleet[0]!];
    const ctx = { asset: fleet[0]!, model, baseline: baselineFor(model) };
    const inputs = stream(fleet, 150).map((m, i) => {
      const p = JSON.parse(m.payload as string);
      return { kind: 'sample' as const, sample: { assetId: p.assetId, siteId: 'site-a', modelId: model.id, ts: p.ts, seq: p.seq, readings: p.readings, receivedAt: m.receivedAt, messageId: String(i) } };
    });
    const prepared = prepareBatch(undefined, inputs, ctx);
    const quiet = prepared.rows.map(() => ({ failureProbability: 0.001, rul: null, scoredBy: 'in-process' as const }));

    const done = completeBatch(prepared, quiet, ctx, defaultPolicies(model));

    const critical = done.alerts.find((a) => a.scope === 'asset' && a.to === 'CRITICAL')!;
    // The documented formula: p(failure) × (24 h − 4 h) × $2,000/h; risk is not a probability.
    expect(critical.scores.risk).toBeGreaterThan(0.9);
    expect(critical.estimatedCostAvoidedUsd).toBeCloseTo(0.001 * 20 * 2_000, 2);
    expect(critical.scores.failureProbability).toBe(0.001);
    expect(critical.driver?.signal).toBe('anomaly');
  });


  it('refuses a prediction list that does not match the feature rows', () => {
    const model = getAssetModel('centrifugal-pump');
    const ctx = { asset: pumpFleet[1]!, model, baseline: baselineFor(model) };
    const messages = stream([pumpFleet[1]!], 3);
    const samples = messages.map((m, i) => {
      const p = JSON.parse(m.payload as string);
      return {
        kind: 'sample' as const,
        sample: {
          assetId: p.assetId,
          siteId: 'site-b',
          modelId: model.id,
          ts: p.ts,
          seq: p.seq,
          readings: p.readings,
          receivedAt: m.receivedAt,
          messageId: String(i),
        },
      };
    });
    const prepared = prepareBatch(undefined, samples, ctx);
    expect(() => completeBatch(prepared, [], ctx, defaultPolicies(model))).toThrow(PredictionCountError);
  });
});

describe('twin: whole-history features', () => {
  const asset = { assetId: 'pump-h', siteId: 'site-a', modelId: CENTRIFUGAL_PUMP.id };
  const ctx = { asset, model: CENTRIFUGAL_PUMP, baseline: DEFAULT_BASELINES[CENTRIFUGAL_PUMP.id]! };
  const names = featureNames(CENTRIFUGAL_PUMP);
  const at = (row: { vector: Float64Array }, name: string) => row.vector[names.indexOf(name)]!;
  const sample = (i: number, pressure: number) => ({
    kind: 'sample' as const,
    sample: {
      ...asset,
      ts: 1_735_689_600_000 + i * 600_000,
      seq: i,
      readings: { temperature: 60 + i, vibration: 2, pressure, flow: 100 + (i % 3), current: 40, speed: 2950 },
      receivedAt: 1_735_689_600_000 + i * 600_000,
    },
  });
  const replacement = (i: number, kind: 'replacement' | 'inspection', component: string) => ({
    kind: 'maintenance' as const,
    event: { ...asset, ts: 1_735_689_600_000 + i * 600_000 + 1, kind, component, receivedAt: 0 },
  });

  it('restarts the history of the replaced component’s sensors only, and only on a replacement', () => {
    // Arrange: pressure is 10 for 6 samples; the seal (watched by pressure) is replaced, then it reads 20.
    const before = [0, 1, 2, 3, 4, 5].map((i) => sample(i, 10));
    const after = [6, 7].map((i) => sample(i, 20));
    // Act
    const replaced = prepareBatch(undefined, [...before, replacement(5, 'replacement', 'seal'), ...after], ctx);
    const inspected = prepareBatch(undefined, [...before, replacement(5, 'inspection', 'seal'), ...after], ctx);
    // Assert
    const last = replaced.rows.at(-1)!;
    expect(at(last, 'pressure_mean_all')).toBe(20);
    expect(at(last, 'temperature_mean_all')).toBeCloseTo(63.5, 10);
    expect(at(last, 'temperature_slope_all')).toBeCloseTo(6, 8); // +1 per 10 minutes = 6 per hour
    expect(at(inspected.rows.at(-1)!, 'pressure_mean_all')).toBeCloseTo(12.5, 10);
  });
});
