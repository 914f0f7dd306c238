import { describe, expect, it } from 'vitest';
import { CENTRIFUGAL_PUMP } from '../../../lambdas/core/catalog/index.ts';
import { featureNames } from '../../../lambdas/core/features/index.ts';
import { type ReplayEvent, replayEventsOf, replayFeatures, ReplayMessageError } from '../../../ml/features/replay.ts';

const T0 = Date.UTC(2026, 0, 1);
const PUMP = { assetId: 'pump-001', siteId: 'site-a', modelId: 'centrifugal-pump' };

describe('replayEventsOf', () => {
  it('turns single and batch events messages into replay events in message order', () => {
    // Arrange
    const single = JSON.stringify({ schema: 'pdm.event.v1', assetId: 'pump-001', ts: '2026-01-01T00:00:00Z', seq: 1, code: 'seal_leak', severity: 'error' });
    const batch = JSON.stringify({
      schema: 'pdm.event.v1',
      assetId: 'pump-001',
      events: [
        { ts: T0 + 1, seq: 2, code: 'E-1', severity: 'info' },
        { ts: T0 + 2, seq: 3, code: 'bearing_overtemp', severity: 'critical', component: 'bearing' },
      ],
    });
    // Act / Assert
    expect(replayEventsOf(single)).toEqual([{ kind: 'event', ts: T0, seq: 1, code: 'seal_leak', severity: 'error' }]);
    expect(replayEventsOf(batch).map((e) => (e.kind === 'event' ? [e.seq, e.component] : null))).toEqual([
      [2, undefined],
      [3, 'bearing'],
    ]);
  });

  it('refuses a payload that is not an events message with a named error', () => {
    expect(() => replayEventsOf('{')).toThrow(ReplayMessageError);
    expect(() => replayEventsOf(JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: 'x', ts: T0, seq: 1, readings: {} }))).toThrow(ReplayMessageError);
  });
});

describe('replayFeatures with device events', () => {
  it('counts events into the rows after them, screens duplicates, and does not depend on the batch size', () => {
    // Arrange
    const history: ReplayEvent[] = [];
    for (let i = 0; i < 30; i++) {
      if (i % 4 === 0) history.push({ kind: 'event', ts: T0 + i * 60_000, seq: i / 4 + 1, code: 'seal_leak', severity: 'error' });
      if (i === 9) history.push({ kind: 'event', ts: T0, seq: 1, code: 'seal_leak', severity: 'error' }); // a re-send
      history.push({ kind: 'sample', ts: T0 + i * 60_000, seq: i + 1, readings: { temperature: 60 + i / 10, vibration: 2 + i / 100, pressure: 9 + i / 100, flow: 200 + i, rpm: 2950 + i, current: 90 + i / 10 } });
    }
    const col = featureNames(CENTRIFUGAL_PUMP).indexOf('events_seal_leak_1h');
    // Act
    const whole = replayFeatures(CENTRIFUGAL_PUMP, PUMP, history);
    const small = replayFeatures(CENTRIFUGAL_PUMP, PUMP, history, 7);
    // Assert
    expect(whole.eventsQuarantined).toBe(1);
    expect(whole.rows.map((r) => r.vector[col])).toEqual(Array.from({ length: 30 }, (_, i) => Math.floor(i / 4) + 1));
    expect(small.rows.map((r) => Array.from(r.vector))).toEqual(whole.rows.map((r) => Array.from(r.vector)));
    expect(whole.twin!.events!.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
