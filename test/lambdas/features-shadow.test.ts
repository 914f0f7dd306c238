import { join } from 'node:path';
import type { KinesisStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { challengerModelVersions, bundleModelVersions, type HistorySink, HistoryTelemetryStore } from '../../lambdas/adapters/history.ts';
import { createShadowScorer, InProcessScorer, readBundleDir } from '../../lambdas/adapters/model.ts';
import { type ShadowScorer, TwinConflictError, type TwinStore } from '../../lambdas/adapters/ports.ts';
import { encodeCleanItem, packItems } from '../../lambdas/adapters/records.ts';
import { fleetLookup } from '../../devices/fleet.ts';
import type { TwinHealthChangedDetail } from '../../lambdas/core/alerts/policy.ts';
import { cleanMessage } from '../../lambdas/core/cleaning/clean.ts';
import type { HistoryRow, HistoryTable } from '../../lambdas/core/history/tables.ts';
import type { ModelBundle } from '../../lambdas/core/model/bundle.ts';
import { bundlePolicies } from '../../lambdas/core/pipeline.ts';
import { logicalState, type Prediction, type Twin, type TwinInput } from '../../lambdas/core/twin/twin.ts';
import { createHandler, type FeatureDeps } from '../../lambdas/features/app.ts';
import { promote, registerBundle, shadow } from '../../ml/registry/store.ts';
import { kinesisEvent, lambdaContext } from '../adapters/standins.ts';
import { fixtureBundle, tempRegistry } from '../ml/registry/fixtures.ts';
import { quietLogger, simulate, testMetrics } from './fixtures.ts';

const PUMP = 'centrifugal-pump';
const { fleet, ticks } = simulate({ assets: 3, seed: 11, ticks: 90, models: [PUMP], failingShare: 0.67 });
const lookup = fleetLookup(fleet);
const position = (t: number, i: number) => String(t * 1000 + i + 1);

function cleanEvent(from: number, to: number): KinesisStreamEvent {
  const perAsset = new Map<string, { text: string; source: string }[]>();
  ticks.slice(from, to).forEach((tick, t) =>
    tick.forEach((r, i) => {
      const res = cleanMessage({ topic: r.topic, payload: r.payload, receivedAt: r.receivedAt, messageId: position(from + t, i) }, { lookupAsset: lookup });
      const items: TwinInput[] = [
        ...res.samples.map((sample) => ({ kind: 'sample' as const, sample })),
        ...res.maintenance.map((event) => ({ kind: 'maintenance' as const, event })),
      ];
      for (const item of items) {
        const id = item.kind === 'sample' ? item.sample.assetId : item.event.assetId;
        perAsset.set(id, [...(perAsset.get(id) ?? []), { text: encodeCleanItem(item), source: id }]);
      }
    }),
  );
  return kinesisEvent([...perAsset].flatMap(([id, lines]) => packItems(lines, 4096).map((p) => ({ partitionKey: id, data: p.data }))));
}
const EVENTS = [0, 30, 60].map((t) => cleanEvent(t, t + 30));

class MemoryTwins implements TwinStore {
  readonly twins = new Map<string, Twin>();
  async get(id: string) {
    return this.twins.get(id);
  }
  async put(twin: Twin, expected: number | null) {
    if ((this.twins.get(twin.assetId)?.version ?? null) !== expected) throw new TwinConflictError(twin.assetId, expected);
    this.twins.set(twin.assetId, structuredClone(twin));
  }
  async settleAlerts(id: string, version: number, remaining: readonly TwinHealthChangedDetail[]) {
    const t = this.twins.get(id);
    if (!t || t.version !== version) return false;
    const { pendingAlerts: _sent, ...rest } = t;
    this.twins.set(id, remaining.length > 0 ? { ...rest, pendingAlerts: [...remaining] } : rest);
    return true;
  }
}

class MemorySink implements HistorySink {
  readonly rows = new Map<HistoryTable, HistoryRow[]>();
  constructor(private readonly refuse: (table: HistoryTable, rows: readonly HistoryRow[]) => boolean = () => false) {}
  async put(table: HistoryTable, rows: readonly HistoryRow[]) {
    if (this.refuse(table, rows)) throw new Error(`${table} refused`);
    this.rows.set(table, [...(this.rows.get(table) ?? []), ...rows]);
    return { written: rows.length };
  }
  of(table: HistoryTable, role?: string): HistoryRow[] {
    return (this.rows.get(table) ?? []).filter((r) => role === undefined || r.role === role);
  }
}

interface Run {
  readonly twins: Map<string, Omit<Twin, 'version'>>;
  readonly alerts: TwinHealthChangedDetail[];
  readonly sink: MemorySink;
  readonly failures: number;
  readonly shadowRows: number;
}

let bundle: ModelBundle;

/** Runs the features handler over the whole simulation with a champion-only or a shadowed deployment. */
async function run(shadowScorer: ShadowScorer | null, sink = new MemorySink()): Promise<Run> {
  const twins = new MemoryTwins();
  const alerts: TwinHealthChangedDetail[] = [];
  const history = new HistoryTelemetryStore(sink, {
    modelVersions: bundleModelVersions(bundle),
    challengerVersions: challengerModelVersions(bundle),
    featureEngine: bundle.manifest.featureEngineVersion,
  });
  const deps: FeatureDeps = {
    registry: { getMany: async (ids) => new Map(ids.flatMap((id) => (lookup(id) ? [[id, lookup(id)!] as const] : []))) },
    twins,
    scorer: new InProcessScorer(bundle),
    telemetry: history,
    history,
    quarantine: { put: async () => ({ objects: [], failed: [] }) },
    alerts: {
      publish: async (a) => {
        alerts.push(...a);
        return { failed: [] };
      },
    },
    logger: quietLogger(),
    metrics: testMetrics(),
    policiesFor: bundlePolicies(bundle),
    ...(shadowScorer ? { shadow: { score: shadowScorer, history } } : {}),
  };
  const handler = createHandler(deps);
  let failures = 0;
  let shadowRows = 0;
  for (const [i, event] of EVENTS.entries()) {
    failures += (await handler(event, lambdaContext(`req-${i}`))).batchItemFailures.length;
    shadowRows += handler.lastSummary?.shadowRows ?? 0;
  }
  return { twins: new Map([...twins.twins].map(([id, t]) => [id, logicalState(t)])), alerts, sink, failures, shadowRows };
}

/** Champion outputs only: what the twin decided with. */
const championRows = (r: Run) => r.sink.of('predictions', 'champion');

let baseline: Run;

beforeAll(async () => {
  // A registry whose champion (seed 7) is shadowed by other models (seed 8), materialized like layers/model.
  const dir = tempRegistry();
  const ids = [7, 8].map((seed) => registerBundle(dir, fixtureBundle({ seed }), { source: () => ({ kind: 'train', seed }), git: { commit: null, dirty: null } }).versions[0]!.id);
  const bundleDir = join(dir, '..', 'model');
  promote(dir, ids[0]!, { bundleDir });
  shadow(dir, ids[1]!, { bundleDir });
  bundle = readBundleDir(bundleDir, { required: true });
  baseline = await run(null);
}, 60_000);

describe('features handler with a shadow challenger', () => {
  it('writes a challenger row with its role and version next to every champion row it scored', async () => {
    const shadowed = await run(createShadowScorer(bundle));

    const champion = championRows(shadowed).filter((r) => r.model_version !== null);
    const challenger = shadowed.sink.of('predictions', 'challenger');
    expect(champion.length).toBeGreaterThan(100);
    expect(challenger.map((r) => `${r.asset_id}:${r.seq}`).sort()).toEqual(champion.map((r) => `${r.asset_id}:${r.seq}`).sort());
    const championVersion = bundleModelVersions(bundle).get(PUMP);
    const challengerVersion = challengerModelVersions(bundle).get(PUMP);
    expect(challengerVersion).toMatch(/^[0-9a-f]{12}$/);
    expect(challengerVersion).not.toBe(championVersion);
    expect(new Set(challenger.map((r) => r.model_version))).toEqual(new Set([challengerVersion]));
    expect(new Set(champion.map((r) => r.model_version))).toEqual(new Set([championVersion]));
    expect(challenger.every((r) => r.scored_by === 'in-process')).toBe(true);
    // Other models, other outputs: the rows are the challenger's, not copies of the champion's.
    const byKey = new Map(champion.map((r) => [`${r.asset_id}:${r.seq}`, r.failure_probability]));
    expect(challenger.some((r) => r.failure_probability !== byKey.get(`${r.asset_id}:${r.seq}`))).toBe(true);
    expect(shadowed.shadowRows).toBe(challenger.length);
    expect(shadowed.failures).toBe(0);
  });

  it('leaves twins, alerts, transitions and champion rows exactly as without a challenger', async () => {
    const shadowed = await run(createShadowScorer(bundle));

    expect(shadowed.twins).toEqual(baseline.twins);
    expect(shadowed.alerts).toEqual(baseline.alerts);
    expect(baseline.alerts.length).toBeGreaterThan(0);
    expect(shadowed.sink.of('transitions')).toEqual(baseline.sink.of('transitions'));
    expect(shadowed.sink.of('alerts')).toEqual(baseline.sink.of('alerts'));
    expect(championRows(shadowed)).toEqual(championRows(baseline));
  });

  it('never lets any challenger output reach the twin, its alerts or the champion rows (property)', async () => {
    const output = fc.record({
      failureProbability: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
      rul: fc.option(fc.double({ min: 0, max: 1e12, noNaN: true })),
      bearing: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(output, { minLength: 1, maxLength: 20 }), async (outputs) => {
        let k = 0;
        const random: ShadowScorer = (_model, _twin, rows) =>
          rows.map((): Prediction => {
            const o = outputs[k++ % outputs.length]!;
            return { failureProbability: o.failureProbability, rul: o.rul, rulLower: null, rulUpper: null, componentFailure: { bearing: o.bearing }, scoredBy: 'in-process' };
          });

        const shadowed = await run(random);

        expect(shadowed.twins).toEqual(baseline.twins);
        expect(shadowed.alerts).toEqual(baseline.alerts);
        expect(shadowed.sink.of('transitions')).toEqual(baseline.sink.of('transitions'));
        expect(championRows(shadowed)).toEqual(championRows(baseline));
      }),
      { numRuns: 8 },
    );
  });

  it('fails no record when the challenger cannot be scored or its rows cannot be written', async () => {
    const throwing: ShadowScorer = () => {
      throw new Error('challenger broke');
    };
    const refusing = new MemorySink((table, rows) => table === 'predictions' && rows.some((r) => r.role === 'challenger'));

    const a = await run(throwing);
    const b = await run(createShadowScorer(bundle), refusing);

    for (const r of [a, b]) {
      expect(r.failures).toBe(0);
      expect(r.twins).toEqual(baseline.twins);
      expect(r.alerts).toEqual(baseline.alerts);
      expect(r.sink.of('predictions', 'challenger')).toEqual([]);
      expect(r.shadowRows).toBe(0);
    }
  });
});

describe('createShadowScorer', () => {
  it('is null for a bundle without challengers and scores only asset models with one', () => {
    const champions: ModelBundle = { manifest: bundle.manifest, models: bundle.models };
    const score = createShadowScorer(bundle)!;
    const turbofan = { id: 'turbofan' } as Parameters<ShadowScorer>[0];

    expect(createShadowScorer(champions)).toBeNull();
    expect(score(turbofan, {} as Twin, [])).toBeNull();
  });
});
