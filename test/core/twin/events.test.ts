import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BASELINES } from '../../../lambdas/core/anomaly/index.ts';
import { INDUSTRIAL_MACHINE, TURBOFAN } from '../../../lambdas/core/catalog/index.ts';
import type { AssetInfo, AssetModel } from '../../../lambdas/core/catalog/types.ts';
import { featureNames } from '../../../lambdas/core/features/index.ts';
import { TWIN_EVENTS_LIMIT } from '../../../lambdas/core/twin/events.ts';
import { logicalState, prepareBatch, type Twin, type TwinInput } from '../../../lambdas/core/twin/twin.ts';
import type { CleanEvent } from '../../../lambdas/core/types.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2015, 0, 5, 6);
const MACHINE: AssetInfo = { assetId: 'machine-1', siteId: 'azure-pdm', modelId: 'industrial-machine' };
const ENGINE: AssetInfo = { assetId: 'engine-1', siteId: 'site-a', modelId: 'turbofan' };

function ctxFor(asset: AssetInfo, model: AssetModel) {
  return { asset, model, baseline: DEFAULT_BASELINES[model.id]! };
}

function event(seq: number, ts: number, code = 'error1'): TwinInput {
  const e: CleanEvent = {
    ...MACHINE,
    ts,
    seq,
    code,
    severity: 'warning',
    component: 'comp1',
    receivedAt: ts,
  };
  return { kind: 'event', event: e };
}

function sample(seq: number, ts: number, asset = MACHINE): TwinInput {
  return {
    kind: 'sample',
    sample: {
      ...asset,
      ts,
      seq,
      readings: asset === MACHINE ? { volt: 170, rotate: 450, pressure: 100, vibration: 40 } : { T24: 642, T30: 1587 },
      receivedAt: ts,
    },
  };
}

function value(twin: Twin | undefined, rows: ReturnType<typeof prepareBatch>['rows'], name: string, model = INDUSTRIAL_MACHINE): number {
  const row = rows.at(-1)!;
  return row.vector[featureNames(model).indexOf(name)]!;
}

describe('twin: device events', () => {
  it('counts an event into the feature vector of the samples after it', () => {
    // Arrange
    const inputs = [sample(1, T0), event(1, T0 + HOUR), event(2, T0 + HOUR, 'E-77'), sample(2, T0 + HOUR)];
    // Act
    const prepared = prepareBatch(undefined, inputs, ctxFor(MACHINE, INDUSTRIAL_MACHINE));
    // Assert
    expect(prepared.rows).toHaveLength(2);
    expect(prepared.rows[0]!.vector[featureNames(INDUSTRIAL_MACHINE).indexOf('events_total_24h')]).toBe(0);
    expect(value(prepared.twin, prepared.rows, 'events_error1_24h')).toBe(1);
    expect(value(prepared.twin, prepared.rows, 'events_other_24h')).toBe(1);
    expect(prepared.eventCounts).toEqual({ received: 2, clean: 2, quarantined: 0 });
    expect(prepared.twin.events!.map((e) => e.code)).toEqual(['error1', 'E-77']);
  });

  it('counts a re-delivered event once and quarantines it as a duplicate seq', () => {
    // Arrange
    const ctx = ctxFor(MACHINE, INDUSTRIAL_MACHINE);
    const first = prepareBatch(undefined, [event(5, T0), sample(1, T0)], ctx);
    // Act
    const again = prepareBatch(first.twin, [event(5, T0), sample(2, T0 + HOUR)], ctx);
    // Assert
    expect(again.eventQuarantine.map((q) => [q.reason, q.level, q.seq])).toEqual([['duplicate_seq', 'event', 5]]);
    expect(again.eventCounts).toEqual({ received: 1, clean: 0, quarantined: 1 });
    expect(value(again.twin, again.rows, 'events_error1_24h')).toBe(1);
    expect(again.twin.events).toHaveLength(1);
  });

  it('changes nothing when the pipeline applies a batch of events twice', () => {
    // Arrange: events as the stream delivers them, each from its raw record's position.
    const ctx = ctxFor(MACHINE, INDUSTRIAL_MACHINE);
    const at = (input: TwinInput, position: string): TwinInput =>
      input.kind === 'event' ? { kind: 'event', event: { ...input.event, messageId: position } } : input;
    const batch = [at(event(1, T0), '49001'), at(event(2, T0 + 1000, 'error3'), '49002')];
    const first = prepareBatch(undefined, batch, ctx);
    // Act
    const again = prepareBatch(first.twin, batch, ctx);
    // Assert
    expect(first.changed).toBe(true);
    expect(again.changed).toBe(false);
    expect(logicalState(again.twin)).toEqual(logicalState(first.twin));
  });

  it('keeps the newest events by device time, whatever order they arrive in', () => {
    // Arrange
    const ctx = ctxFor(MACHINE, INDUSTRIAL_MACHINE);
    const n = TWIN_EVENTS_LIMIT + 5;
    const inputs = Array.from({ length: n }, (_, i) => event(i + 1, T0 + i * 60_000)).reverse();
    // Act
    const { twin } = prepareBatch(undefined, inputs, ctx);
    // Assert
    expect(twin.events).toHaveLength(TWIN_EVENTS_LIMIT);
    expect(twin.events!.map((e) => e.seq)).toEqual(Array.from({ length: TWIN_EVENTS_LIMIT }, (_, i) => i + 6));
  });

  it('reaches the same twin for any split of samples and events into batches', () => {
    // Arrange
    const ctx = ctxFor(MACHINE, INDUSTRIAL_MACHINE);
    const inputs: TwinInput[] = [];
    for (let h = 0; h < 40; h++) {
      if (h % 3 === 0) inputs.push(event(h + 1, T0 + h * HOUR, h % 2 ? 'error2' : 'error5'));
      inputs.push(sample(h + 1, T0 + h * HOUR));
    }
    const whole = prepareBatch(undefined, inputs, ctx).twin;
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: inputs.length - 1 }), { maxLength: 6 }), (cuts) => {
        // Act
        let twin: Twin | undefined;
        let from = 0;
        for (const to of [...cuts.sort((a, b) => a - b), inputs.length]) {
          twin = prepareBatch(twin, inputs.slice(from, to), ctx).twin;
          from = to;
        }
        // Assert
        expect(logicalState(twin!)).toEqual(logicalState(whole));
      }),
      { numRuns: 30 },
    );
  });

  it('counts an event on a cycle clock at the current cycle', () => {
    // Arrange
    const ctx = ctxFor(ENGINE, TURBOFAN);
    const stall: TwinInput = {
      kind: 'event',
      event: { ...ENGINE, ts: T0, seq: 1, code: 'compressor_stall', severity: 'error', component: 'hpc', receivedAt: T0 },
    };
    // Act
    const prepared = prepareBatch(undefined, [sample(1, T0, ENGINE), sample(2, T0 + 1, ENGINE), stall, sample(3, T0 + 2, ENGINE)], ctx);
    // Assert
    const names = featureNames(TURBOFAN);
    expect(prepared.rows.at(-1)!.vector[names.indexOf('events_compressor_stall_5c')]).toBe(1);
    expect(prepared.rows[1]!.vector[names.indexOf('events_compressor_stall_5c')]).toBe(0);
  });
});
