import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDriftCounterStore, driftTableInput } from '../../lambdas/adapters/aws/drift-dynamodb.ts';
import { DriftConfigError, DriftMonitor } from '../../lambdas/adapters/drift.ts';
import { getAssetModel } from '../../lambdas/core/catalog/index.ts';
import type { DriftCounts } from '../../lambdas/core/drift/index.ts';
import { featureNames } from '../../lambdas/core/features/index.ts';
import type { ModelBundle } from '../../lambdas/core/model/bundle.ts';
import { readBundle } from '../../ml/bundle/read.ts';
import { fixtureBundleDir } from '../ml/bundle/fixtures.ts';
import { type Dynamo, startDynalite } from './standins.ts';

let db: Dynamo;
let n = 0;
async function driftTable(): Promise<string> {
  const name = `drift-${++n}`;
  await db.client.send(
    new CreateTableCommand(driftTableInput(name)),
  );
  return name;
}

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.close();
});

const counts = (rows: number, bins: number[][]): DriftCounts => ({ rows, bins });
const shape = counts(0, [
  [0, 0, 0],
  [0, 0],
]);

describe('DynamoDriftCounterStore', () => {
  it('loses no count when many writers add to the same bucket at once', async () => {
    const store = new DynamoDriftCounterStore(db.doc, await driftTable());

    await Promise.all(
      Array.from({ length: 25 }, () =>
        store.add('m#r', 100, counts(3, [
          [1, 0, 2],
          [0, 3],
        ]), 1),
      ),
    );

    expect(await store.read('m#r', 100, 100, shape)).toEqual({
      ...counts(75, [
        [25, 0, 50],
        [0, 75],
      ]),
      hours: 1,
    });
  });

  it('sums the window’s hours only, and keeps keys apart', async () => {
    const store = new DynamoDriftCounterStore(db.doc, await driftTable());
    const one = counts(1, [
      [1, 0, 0],
      [0, 1],
    ]);
    for (const h of [97, 98, 99, 100, 101]) await store.add('m#r', h, one, 1);
    await store.add('other#r', 99, one, 1);

    const window = await store.read('m#r', 98, 100, shape);

    expect(window.rows).toBe(3);
    expect(window.bins).toEqual([
      [3, 0, 0],
      [0, 3],
    ]);
    expect((await store.read('nothing#r', 0, 1000, shape)).rows).toBe(0);
  });
});

describe('DriftMonitor', () => {
  const pump = getAssetModel('centrifugal-pump');
  const names = featureNames(pump);
  let bundle: ModelBundle;
  beforeAll(() => {
    bundle = readBundle(fixtureBundleDir());
  });
  const HOUR = 3_600_000;
  /** Engine-length vectors whose fixture features sit at `value` (far from the fixture's ~N(10, 3) training data when large). */
  const rows = (count: number, value: number, hour: number) =>
    Array.from({ length: count }, (_, i) => {
      const v = new Float64Array(names.length).fill(value + (i % 7) * 0.01);
      return { ts: hour * HOUR + i, vector: v };
    });

  it('has no PSI below the minimum count, then one computed over every container’s counts', async () => {
    const table = await driftTable();
    let clock = 0;
    const opts = { minCount: 100, windowHours: 1, evaluateEveryMs: 0, now: () => clock };
    const a = new DriftMonitor(new DynamoDriftCounterStore(db.doc, table), bundle, opts);
    const b = new DriftMonitor(new DynamoDriftCounterStore(db.doc, table), bundle, opts);

    const first = await a.record([{ model: pump, rows: rows(60, 1000, 500) }]);
    clock += 1;
    const second = await b.record([{ model: pump, rows: rows(60, 1000, 500) }]);

    expect(first).toHaveLength(1);
    expect(first[0]!.psi).toBeNull();
    expect(first[0]!.rows).toBe(60);
    expect(second[0]!.rows).toBe(120);
    expect(second[0]!.psi).toBeGreaterThan(1);
    expect(second[0]!.window).toEqual({ hours: 1, fromHour: 500, toHour: 500 });
  });

  it('has no PSI until rows cover 90 % of the window’s hours, however many rows there are', async () => {
    const m = new DriftMonitor(new DynamoDriftCounterStore(db.doc, await driftTable()), bundle, { minCount: 1, windowHours: 10, evaluateEveryMs: 0 });

    const eight = await m.record([{ model: pump, rows: [1, 2, 3, 4, 5, 6, 7, 8].flatMap((h) => rows(50, 1000, 600 + h)) }]);
    const nine = await m.record([{ model: pump, rows: rows(50, 1000, 609) }]);

    expect(eight[0]!.rows).toBe(400);
    expect(eight[0]!.psi).toBeNull();
    expect(nine[0]!.psi).toBeGreaterThan(1);
  });

  it('leaves hours outside the window out, and reads the window at most once per interval', async () => {
    const table = await driftTable();
    let clock = 0;
    const m = new DriftMonitor(new DynamoDriftCounterStore(db.doc, table), bundle, { minCount: 1, windowHours: 2, evaluateEveryMs: 60_000, now: () => clock });

    await m.record([{ model: pump, rows: rows(10, 10, 100) }]);
    clock = 30_000;
    const skipped = await m.record([{ model: pump, rows: rows(10, 10, 102) }]);
    clock = 90_000;
    const due = await m.record([{ model: pump, rows: rows(5, 10, 103) }]);

    expect(skipped).toEqual([]);
    // Hours 102 and 103: the first batch (hour 100) is out of the 2 h window.
    expect(due[0]!.rows).toBe(15);
  });

  it('skips asset models without a reference and rows without a vector', async () => {
    const m = new DriftMonitor(new DynamoDriftCounterStore(db.doc, await driftTable()), bundle, { minCount: 1, evaluateEveryMs: 0 });

    const reports = await m.record([
      { model: getAssetModel('turbofan'), rows: [{ ts: 0, vector: new Float64Array(3) }] },
      { model: pump, rows: [{ ts: 0, vector: new Float64Array(0) }] },
    ]);

    expect(reports).toEqual([]);
  });

  it('refuses a window that is not a whole number of hours', () => {
    const store = new DynamoDriftCounterStore(db.doc, 'unused');
    expect(() => new DriftMonitor(store, bundle, { windowHours: 0 })).toThrow(DriftConfigError);
    expect(() => new DriftMonitor(store, bundle, { windowHours: 1.5 })).toThrow(DriftConfigError);
  });
});
