import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFleet, FleetSimulator } from '../../devices/fleet.ts';
import { ingestFile } from '../../local/cli.ts';
import { type RunSummary, startLocalRuntime } from '../../local/runtime/runtime.ts';

const FAST = 1e7; // simulated seconds per real second: as fast as the broker takes messages
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'pdm-e2e-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Counts that must add up whatever the run did. */
function expectBalanced(s: RunSummary): void {
  expect(s.messages.accepted + s.messages.quarantined).toBe(s.messages.received);
  expect(s.samples.clean + s.samples.quarantined).toBe(s.samples.received);
}

describe('local runtime (end to end)', () => {
  it('raises WARNING or CRITICAL on a degrading asset before it fails, and the alert reaches the local SNS; refuses a foreign publish', async () => {
    // Arrange: three pumps, one with an injected bearing degradation.
    const fleetOptions = { models: ['centrifugal-pump'], failingShare: 0.34 };
    const failing = createFleet({ assets: 3, seed: 2, ...fleetOptions }).find((a) => a.degradation)!;
    const failTick = failing.degradation!.failTick;
    const snsLog = join(mkdtempSync(join(tmpdir(), 'pdm-sns-')), 'alerts.jsonl');
    const rt = await startLocalRuntime({
      assets: 3,
      seed: 2,
      fleet: fleetOptions,
      logLevel: 'SILENT',
      alerts: { jsonlPath: snsLog },
    });
    try {
      // Act: run up to the tick before the failure (seq = tick + 1).
      await rt.simulate({ speed: FAST, ticks: failTick });
      await rt.drain();
      const before = await rt.summary();

      // Assert: an early, non-info alert for the failing asset, caused by a sample before the failure.
      const early = rt.alertLog.filter((a) => a.assetId === failing.assetId && a.severity !== 'info');
      expect(early.length).toBeGreaterThan(0);
      expect(early.every((a) => a.seq <= failTick)).toBe(true);
      const twin = await rt.twin(failing.assetId);
      expect(twin!.history.some((t) => t.to === 'WARNING' || t.to === 'CRITICAL')).toBe(true);
      expectBalanced(before);
      // One telemetry message per pump and tick, plus the device-event messages the simulator logs.
      expect(before.messages.received).toBeGreaterThanOrEqual(3 * failTick);
      expect(before.samples.received).toBe(3 * failTick);
      // The alert crossed the local EventBridge (ALERT_ROUTES) and was delivered by the local SNS topic of its severity.
      const topicDeliveries = readFileSync(snsLog, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { kind: string; topic?: string; message?: string })
        .filter((d) => d.kind === 'sns');
      for (const alert of early) {
        const delivery = topicDeliveries.find(
          (d) => (JSON.parse(d.message!) as { detail: { alertId: string } }).detail.alertId === alert.alertId,
        );
        expect(delivery?.topic, alert.alertId).toBe(alert.severity);
      }

      // Act (b): a healthy device publishes on the failing asset's topic.
      const rogue = rt.fleetAssets.find((a) => a.assetId !== failing.assetId)!;
      const outcome = await rt.publishAs(
        rogue.assetId,
        `pdm/${failing.siteId}/${failing.assetId}/telemetry`,
        JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: failing.assetId, ts: Date.UTC(2026, 0, 5), seq: 99_999, readings: { temperature: 1 } }),
      );
      await rt.drain();
      const after = await rt.summary();

      // Assert (b): refused, counted, and nothing from it processed.
      expect(outcome).toBe('refused');
      expect(after.refused.publishes).toBe(1);
      expect(after.messages).toEqual(before.messages);
      expect((await rt.twin(failing.assetId))!.lastSeq).toBe(twin!.lastSeq);
    } finally {
      await rt.stop();
    }
  });

  it('restarted with --data-dir, ends with the counts of one uninterrupted run', async () => {
    const common = { assets: 4, seed: 7, faultRate: 0.05, logLevel: 'SILENT' as const };
    // Arrange: the uninterrupted run.
    const single = await startLocalRuntime(common);
    await single.simulate({ speed: FAST, ticks: 120 });
    await single.drain();
    const expected = await single.summary();
    const expectedTwins = await Promise.all(single.fleetAssets.map((a) => single.twin(a.assetId)));
    await single.stop();

    // Act: the same 120 ticks, stopped after 50 without waiting for the pipeline, then resumed.
    const dir = tmp();
    const first = await startLocalRuntime({ ...common, dataDir: dir });
    await first.simulate({ speed: FAST, ticks: 50 });
    await first.stop();
    const second = await startLocalRuntime({ ...common, dataDir: dir });
    await second.simulate({ speed: FAST, ticks: 70 });
    await second.drain();
    const got = await second.summary();
    const gotTwins = await Promise.all(second.fleetAssets.map((a) => second.twin(a.assetId)));
    await second.stop();

    // Assert
    expectBalanced(got);
    expect(got.messages).toEqual(expected.messages);
    expect(got.samples).toEqual(expected.samples);
    expect(got.byReason).toEqual(expected.byReason);
    expect(got.alerts).toEqual(expected.alerts);
    expect(got.telemetryRows).toEqual(expected.telemetryRows);
    expect(got.sim?.tick).toBe(120);
    expect(gotTwins.map((t) => [t?.assetId, t?.lastSeq, t?.samples, t?.health.state])).toEqual(
      expectedTwins.map((t) => [t?.assetId, t?.lastSeq, t?.samples, t?.health.state]),
    );
    // Three runtimes in a row, each PUBACK waiting for its record to be written: ~35 s alone.
  }, 150_000);

  it('ingests a file with good, malformed-payload and malformed lines, and the summary adds up', async () => {
    // Arrange: 10 ticks of the default fleet (12 assets, seed 1), plus bad input.
    const sim = new FleetSimulator(createFleet({ assets: 12, seed: 1 }), { seed: 1 });
    const good: string[] = [];
    // A capture: each line carries the receive time its broker stamped (the simulated clock).
    for (let t = 0; t < 10; t++) {
      const receivedAt = sim.now + 1_000;
      for (const m of sim.step()) good.push(JSON.stringify({ topic: m.topic, payload: m.payload, receivedAt }));
    }
    const badPayload = [
      JSON.stringify({ topic: 'pdm/site-a/pump-001/telemetry', payload: '{"schema":"pdm.telemetry.v1",' }),
      JSON.stringify({ topic: 'pdm/site-b/machine-002/telemetry', payload: 'hello' }),
    ];
    const badLines = ['this is not json', JSON.stringify({ topic: 5, payload: 'x' }), JSON.stringify({ topic: 'pdm/a/b/telemetry' })];
    const unknownDevice = [JSON.stringify({ topic: 'pdm/site-a/ghost-999/telemetry', payload: '{}' })];
    const file = join(tmp(), 'input.jsonl');
    writeFileSync(file, [...good.slice(0, 60), ...badLines, ...badPayload, ...good.slice(60), ...unknownDevice].join('\n') + '\n');

    // Act
    const s = await ingestFile({ file });

    // Assert
    const lines = good.length + badPayload.length + badLines.length + unknownDevice.length;
    expect(s.lines).toBe(lines);
    expect(s.fileErrors).toBe(3);
    expect(s.fileErrorSamples.map((e) => e.line)).toEqual([61, 62, 63]);
    expect(s.refused.connects).toBe(1);
    expect(s.published).toBe(good.length + badPayload.length);
    expect(s.fileErrors + s.published + s.refused.connects + s.refused.publishes).toBe(s.lines);
    expect(s.messages.received).toBe(s.published);
    expect(s.messages.quarantined).toBe(2);
    expect(s.byReason.invalid_json).toBe(2);
    expect(s.samples.received).toBe(good.length);
    expectBalanced(s);
  });
});
