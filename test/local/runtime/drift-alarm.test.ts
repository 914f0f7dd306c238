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

const report = (assetModel: string, psi: number | null): DriftWindowReport => ({
  assetModel,
  psi,
  feature: psi === null ? null : 'vibration_last',
  rows: psi === null ? 10 : 900,
  features: [{ feature: 'vibration_last', psi }],
  window: { hours: 24, fromHour: 1, toHour: 24 },
  referenceId: 'abcd1234',
});

const driftEvents = () => bus.events.filter((e) => e.event.source === DRIFT_EVENT.source);

describe('LocalDriftAlarm', () => {
  it('puts one ModelDriftDetected on the bus when PSI crosses the threshold, and again only after it recovered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdm-drift-'));
    const lines: string[] = [];
    const alarm = new LocalDriftAlarm({ events: client, eventBus: 'pdm-local-bus', jsonlPath: join(dir, DRIFT_ALARMS_FILE), print: (l) => lines.push(l) });
    const before = driftEvents().length;

    await alarm.observe([report('pump', null)]);
    await alarm.observe([report('pump', 0.05)]);
    await alarm.observe([report('pump', 0.31)]);
    await alarm.observe([report('pump', 0.4)]);
    await alarm.observe([report('pump', 0.1)]);
    await alarm.observe([report('pump', 0.25)]);

    const events = driftEvents().slice(before);
    expect(events.map((e) => e.event['detail-type'])).toEqual([DRIFT_EVENT.detailType, DRIFT_EVENT.detailType]);
    expect(events[0]!.eventBusName).toBe('pdm-local-bus');
    expect(events[0]!.matchedRoutes).toEqual(['Ops']);
    expect(events.map((e) => (e.event.detail as { psi: number }).psi)).toEqual([0.31, 0.25]);
    expect(events[0]!.event.detail).toMatchObject({ assetModel: 'pump', feature: 'vibration_last', threshold: 0.2, rows: 900, window: { hours: 24 } });
    expect(alarm.fired).toHaveLength(2);
    expect(readFileSync(join(dir, DRIFT_ALARMS_FILE), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(lines[0]).toMatch(/ModelDriftDetected\] pump: PSI 0\.310 ≥ 0\.2 on vibration_last/);
  });

  it('never fires on a null PSI (too few rows) however the threshold is set', async () => {
    const alarm = new LocalDriftAlarm({ events: client, eventBus: 'pdm-local-bus', threshold: 0 });
    const before = driftEvents().length;

    await alarm.observe([report('machine', null), report('machine', null)]);

    expect(driftEvents().length).toBe(before);
    expect(alarm.latest.get('machine')?.psi).toBeNull();
  });
});
