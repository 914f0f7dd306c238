import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAssetRegistry, DynamoTwinStore } from '../../lambdas/adapters/aws/dynamodb.ts';
import { CachedAssetRegistry, TwinConflictError, type AssetRegistry } from '../../lambdas/adapters/ports.ts';
import { DEFAULT_BASELINES } from '../../lambdas/core/anomaly/index.ts';
import { getAssetModel } from '../../lambdas/core/catalog/index.ts';
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

  it('stores magnitudes below DynamoDB\'s smallest (1e-130) as 0 instead of failing the write', async () => {
    const store = new DynamoTwinStore(db.doc, 'twins');
    const twin = twinOf('pump-tiny');
    twin.latest = { ts: 1, seq: 1, readings: { vibration: 1e-131, flow: 5e-324, current: -1e-200, rpm: 2950, pressure: 1e-130 } };
    await store.put(twin, null);
    const stored = await store.get('pump-tiny');
    expect(stored!.latest!.readings).toEqual({ vibration: 0, flow: 0, current: 0, rpm: 2950, pressure: 1e-130 });
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
