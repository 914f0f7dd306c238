import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriftWindowReport } from '../../../lambdas/adapters/drift.ts';
import { DRIFT_EVENT } from '../../../lambdas/core/drift/index.ts';
import { type LocalEventBridge, startLocalEventBridge } from '../../../local/eventbridge/server.ts';
import { DRIFT_ALARMS_FILE, LocalDriftAlarm } from '../../../local/runtime/drift-alarm.ts';

let bus: LocalEventBridge;
let client: EventBridgeClient;
beforeAll(async () => {
  bus = await startLocalEventBridge({ routes: [{ id: 'Ops', pattern: { source: [DRIFT_EVENT.source] } }], onDelivery: () => {} });
  client = new EventBridgeClient({ region: 'us-east-1', endpoint: bus.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
});
afterAll(async () => {
  client.destroy();
  await bus.stop();
});

const report = (assetModel: string, psi: number | null, toHour = 24): DriftWindowReport => ({
  assetModel,
  psi,
  feature: psi === null ? null : 'vibration_last',
  rows: psi === null ? 10 : 900,
  reason: psi === null ? 'not enough data: 10 rows, the minimum is 500' : null,
  features: [{ feature: 'vibration_last', psi }],
  window: { hours: 24, fromHour: toHour - 23, toHour },
  referenceId: 'abcd1234',
});

const driftEvents = () => bus.events.filter((e) => e.event.source === DRIFT_EVENT.source);

describe('LocalDriftAlarm', () => {
  it('puts one ModelDriftDetected on the bus after three breaching hours in a row, and again only after an hour at or below the threshold', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdm-drift-'));
    const lines: string[] = [];
    const alarm = new LocalDriftAlarm({ events: client, eventBus: 'pdm-local-bus', jsonlPath: join(dir, DRIFT_ALARMS_FILE), print: (l) => lines.push(l) });
    const before = driftEvents().length;

    await alarm.observe([report('pump', null, 10)]);
    await alarm.observe([report('pump', 0.05, 11)]);
    await alarm.observe([report('pump', 0.31, 12)]);
    await alarm.observe([report('pump', 0.4, 13)]);
    expect(driftEvents().length).toBe(before); // two hours only
    await alarm.observe([report('pump', 0.33, 14)]); // the third: ALARM
    await alarm.observe([report('pump', 0.5, 15)]); // still in alarm: no new event
    await alarm.observe([report('pump', 0.1, 16)]); // OK
    await alarm.observe([report('pump', 0.25, 17), report('pump', 0.26, 18)]);
    await alarm.observe([report('pump', 0.27, 19)]);

    const events = driftEvents().slice(before);
    expect(events.map((e) => e.event['detail-type'])).toEqual([DRIFT_EVENT.detailType, DRIFT_EVENT.detailType]);
    expect(events[0]!.eventBusName).toBe('pdm-local-bus');
    expect(events[0]!.matchedRoutes).toEqual(['Ops']);
    expect(events.map((e) => (e.event.detail as { psi: number }).psi)).toEqual([0.33, 0.27]);
    expect(events[0]!.event.detail).toMatchObject({ assetModel: 'pump', feature: 'vibration_last', threshold: 0.2, rows: 900, window: { hours: 24, toHour: 14 } });
    expect(alarm.fired).toHaveLength(2);
    expect(readFileSync(join(dir, DRIFT_ALARMS_FILE), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(lines[0]).toMatch(/ModelDriftDetected\] pump: PSI 0\.330 > 0\.2 for 3 h on vibration_last/);
  });

  it('takes the hour\'s maximum as its datapoint, and counts only hours that have one (a batch may span hours)', async () => {
    const alarm = new LocalDriftAlarm({ events: client, eventBus: 'pdm-local-bus' });
    const before = driftEvents().length;

    // Hour 2 holds a low and a high report: its Maximum breaches.
    await alarm.observe([report('fan', 0.3, 1), report('fan', 0.1, 2), report('fan', 0.3, 2)]);
    await alarm.observe([report('fan', 0.3, 3)]);
    expect(driftEvents().length).toBe(before + 1);
    // Hours 3, 5 and 7 breach and 4, 6 carried no report: three datapoints in a row.
    const gap = new LocalDriftAlarm({ events: client, eventBus: 'pdm-local-bus' });
    await gap.observe([report('fan', 0.3, 3), report('fan', 0.3, 5)]);
    expect(gap.fired).toHaveLength(0);
    await gap.observe([report('fan', 0.3, 7)]);
    expect(gap.fired).toHaveLength(1);
  });

  it('never fires on a null PSI (too few rows) however the threshold is set', async () => {
    const alarm = new LocalDriftAlarm({ events: client, eventBus: 'pdm-local-bus', threshold: 0 });
    const before = driftEvents().length;

    await alarm.observe([report('machine', null), report('machine', null)]);

    expect(driftEvents().length).toBe(before);
    expect(alarm.latest.get('machine')?.psi).toBeNull();
  });
});
