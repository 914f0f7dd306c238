import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CorruptTwinItemError,
  decodeTwinItem,
  DynamoAssetRegistry,
  DynamoTwinStore,
  encodeTwinItem,
  itemBytes,
  TWIN_BODY_ENCODING,
} from '../../lambdas/adapters/aws/dynamodb.ts';
import { createFleet, FleetSimulator, fleetLookup } from '../../devices/fleet.ts';
import { processMessages } from '../../lambdas/core/pipeline.ts';
import { CachedAssetRegistry, TwinConflictError, type AssetRegistry } from '../../lambdas/adapters/ports.ts';
import { DEFAULT_BASELINES } from '../../lambdas/core/anomaly/index.ts';
import { getAssetModel } from '../../lambdas/core/catalog/index.ts';
import type { TwinHealthChangedDetail } from '../../lambdas/core/alerts/policy.ts';
import { newTwin } from '../../lambdas/core/twin/twin.ts';
import { type Dynamo, startDynalite } from './standins.ts';

let db: Dynamo;
beforeAll(async () => {
  db = await startDynalite();
  await db.createTable('twins');
  await db.createTable('assets');
});
afterAll(() => db.close());

const pump = getAssetModel('centrifugal-pump');
const twinOf = (assetId: string) =>
  newTwin({ assetId, siteId: 'site-a', modelId: pump.id }, pump, DEFAULT_BASELINES[pump.id]!);

/** A pump twin after a simulated week of one sample a minute: its feature windows are full. */
function grownTwin() {
  const fleet = createFleet({ assets: 1, seed: 4, failingShare: 0 });
  const sim = new FleetSimulator(fleet, { seed: 4, samplesPerMessage: 60 });
  const messages = Array.from({ length: 170 }, (_, t) =>
    sim.step().map((m, j) => ({ topic: m.topic, payload: Buffer.from(m.payload), messageId: `${t}-${j}`, receivedAt: sim.now + 1_000 })),
  ).flat();
  const twins = processMessages(messages, new Map(), { lookupAsset: fleetLookup(fleet), baselineFor: (m) => DEFAULT_BASELINES[m.id]! }).twins;
  return [...twins.values()][0]!;
}

describe('DynamoTwinStore', () => {
  it('creates a twin only when none exists and round-trips it unchanged', async () => {
    const store = new DynamoTwinStore(db.doc, 'twins');
    const twin = twinOf('pump-1');
    await store.put(twin, null);
    expect(await store.get('pump-1')).toEqual(twin);
    await expect(store.put(twin, null)).rejects.toBeInstanceOf(TwinConflictError);
  });

  it('writes when the stored version matches and raises TwinConflictError when it does not', async () => {
    const store = new DynamoTwinStore(db.doc, 'twins');
    const twin = twinOf('pump-2');
    await store.put(twin, null);
    await store.put({ ...twin, version: 1, samples: 5 }, 0);
    const stale = store.put({ ...twin, version: 1, samples: 9 }, 0);
    await expect(stale).rejects.toThrow(TwinConflictError);
    expect((await store.get('pump-2'))?.samples).toBe(5);
  });

  it('keeps magnitudes below DynamoDB\'s smallest number (1e-130) exactly, since the twin is stored as JSON', async () => {
    const store = new DynamoTwinStore(db.doc, 'twins');
    const twin = twinOf('pump-tiny');
    twin.latest = { ts: 1, seq: 1, readings: { vibration: 1e-131, flow: 5e-324, current: -1e-200, rpm: 2950, pressure: 1e-130 } };
    await store.put(twin, null);
    const stored = await store.get('pump-tiny');
    expect(stored!.latest!.readings).toEqual(twin.latest.readings);
  });

  it('stores a week-old twin in under half its JSON size, with a readable summary, and reads it back exactly', async () => {
    const store = new DynamoTwinStore(db.doc, 'twins');
    const twin = grownTwin();
    await store.put(twin, null);
    const raw = await db.doc.send(new GetCommand({ TableName: 'twins', Key: { assetId: twin.assetId } }));
    expect(await store.get(twin.assetId)).toEqual(twin);
    expect(raw.Item).toMatchObject({ assetId: twin.assetId, siteId: twin.siteId, modelId: twin.modelId, version: twin.version, healthState: twin.health.state, lastSeq: twin.lastSeq, encoding: TWIN_BODY_ENCODING });
    expect(itemBytes(raw.Item!)).toBeLessThan(JSON.stringify(twin).length / 2);
    expect(itemBytes(encodeTwinItem(twin))).toBe(itemBytes(raw.Item!));
  });

  it('reads a twin stored with plain attributes (before the body encoding) and rewrites it encoded', async () => {
    const store = new DynamoTwinStore(db.doc, 'twins');
    // Plain items predate features-2, whose whole-history block marks "never reset" with -Number.MAX_VALUE,
    // a number the document client cannot write as a plain attribute: the legacy item carries a finite one.
    const current = twinOf('pump-legacy');
    const twin = { ...current, features: { ...current.features, w: current.features.w.map((v) => (v === -Number.MAX_VALUE ? 0 : v)) } };
    await db.doc.send(new PutCommand({ TableName: 'twins', Item: twin }));
    expect(await store.get('pump-legacy')).toEqual(twin);
    await store.put({ ...twin, version: 1 }, 0);
    expect((await store.get('pump-legacy'))?.version).toBe(1);
  });

  it('raises CorruptTwinItemError for a body that does not decode or belongs to another twin', () => {
    const item = encodeTwinItem(twinOf('pump-x'));
    expect(() => decodeTwinItem({ ...item, body: new Uint8Array([1, 2, 3]) })).toThrow(CorruptTwinItemError);
    expect(() => decodeTwinItem({ ...item, assetId: 'pump-y' })).toThrow(CorruptTwinItemError);
    expect(() => decodeTwinItem({ ...item, encoding: 'json+zstd' })).toThrow(CorruptTwinItemError);
  });

  it('settles the alert outbox only on the version it was written with, leaving the rest of the twin as it was', async () => {
    const store = new DynamoTwinStore(db.doc, 'twins');
    const alert = (id: string) => ({ alertId: id, assetId: 'pump-out' }) as unknown as TwinHealthChangedDetail;
    const twin = { ...twinOf('pump-out'), pendingAlerts: [alert('a1'), alert('a2')] };
    await store.put(twin, null);
    expect((await store.get('pump-out'))?.pendingAlerts?.map((a) => a.alertId)).toEqual(['a1', 'a2']);

    expect(await store.settleAlerts('pump-out', 1, [])).toBe(false);
    expect(await store.settleAlerts('pump-out', 0, [alert('a2')])).toBe(true);
    expect((await store.get('pump-out'))?.pendingAlerts?.map((a) => a.alertId)).toEqual(['a2']);
    expect(await store.settleAlerts('pump-out', 0, [])).toBe(true);
    const { pendingAlerts: _sent, ...rest } = twin;
    expect(await store.get('pump-out')).toEqual(rest);
  });

  it('returns undefined for a missing twin', async () => {
    expect(await new DynamoTwinStore(db.doc, 'twins').get('nobody')).toBeUndefined();
  });
});

describe('DynamoAssetRegistry', () => {
  it('resolves registered assets in one batch and leaves unknown and malformed ones out', async () => {
    for (let i = 0; i < 120; i++) {
      await db.doc.send(
        new PutCommand({ TableName: 'assets', Item: { assetId: `a-${i}`, siteId: 's', modelId: 'turbofan', attributes: { x: 1, bad: {} } } }),
      );
    }
    await db.doc.send(new PutCommand({ TableName: 'assets', Item: { assetId: 'broken', siteId: 3 } }));
    const ids = [...Array.from({ length: 120 }, (_, i) => `a-${i}`), 'ghost', 'broken'];

    const found = await new DynamoAssetRegistry(db.doc, 'assets').getMany(ids);

    expect(found.size).toBe(120);
    expect(found.get('a-7')).toEqual({ assetId: 'a-7', siteId: 's', modelId: 'turbofan', attributes: { x: 1 } });
    expect(found.has('ghost')).toBe(false);
    expect(found.has('broken')).toBe(false);
  });
});

describe('CachedAssetRegistry', () => {
  it('asks the inner registry once per asset per TTL, remembering unknown assets too', async () => {
    const asked: string[][] = [];
    const inner: AssetRegistry = {
      getMany: async (ids) => {
        asked.push([...ids]);
        return new Map(ids.filter((id) => id !== 'ghost').map((id) => [id, { assetId: id, siteId: 's', modelId: 'turbofan' }]));
      },
    };
    let now = 0;
    const cached = new CachedAssetRegistry(inner, { ttlMs: 1000, now: () => now });

    await cached.getMany(['a', 'ghost']);
    const second = await cached.getMany(['a', 'ghost', 'b']);
    now = 1500;
    await cached.getMany(['a']);

    expect(asked).toEqual([['a', 'ghost'], ['b'], ['a']]);
    expect([...second.keys()].sort()).toEqual(['a', 'b']);
  });
});
