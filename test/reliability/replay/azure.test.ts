import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { type AzureReplayResult, azureMessages, DEFAULT_AZURE_DIR, replayAzure, ReplayInputError, sliceAzure } from '../../../local/replay/azure.ts';
import { parseSpeed, replayReport } from '../../../local/replay/cli.ts';
import { loadAzure } from '../../../ml/datasets/azure.ts';
import { scaled } from '../../support/env.ts';

const DATA = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data', 'azure_pdm');
const FROM = Date.UTC(2015, 0, 1);
const TO = Date.UTC(2015, 0, 15);
const MACHINES = [1, 2, 3];

/** Failures of the chosen machines in [first, last] read straight from the CSV, not through the loader. */
function csvFailures(first: number, last: number): { machine: number; comp: string; ts: number }[] {
  return readFileSync(join(DATA, 'PdM_failures.csv'), 'utf8')
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((line) => line.split(','))
    .map(([dt, m, c]) => ({ machine: Number(m), comp: c!, ts: Date.parse(`${dt!.replace(' ', 'T')}Z`) }))
    .filter((f) => MACHINES.includes(f.machine) && f.ts >= first && f.ts <= last);
}

describe('azureMessages', () => {
  it('orders messages by time and keeps each machine sample before its replacement at the same hour', () => {
    // Arrange
    const data = sliceAzure(loadAzure(DATA), MACHINES, FROM, TO);

    // Act
    const msgs = azureMessages(data, MACHINES);

    // Assert: globally sorted; per machine telemetry seqs 1..n in order.
    for (let i = 1; i < msgs.length; i++) expect(msgs[i]!.ts).toBeGreaterThanOrEqual(msgs[i - 1]!.ts);
    for (const id of MACHINES) {
      const seqs = msgs
        .filter((m) => m.machine === id && m.kind === 'telemetry')
        .map((m) => (JSON.parse(m.payload) as { seq: number }).seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => k + 1));
    }
    const failureHour = msgs.filter((m) => m.machine === 1 && m.ts === Date.UTC(2015, 0, 5, 6));
    // PdM_maint: machine 1 had comp1 and comp4 replaced at 2015-01-05 06:00 (comp4 after its failure).
    expect(failureHour.map((m) => m.kind)).toEqual(['telemetry', 'maintenance', 'maintenance']);
    expect(failureHour.slice(1).map((m) => JSON.parse(m.payload) as { kind: string; component: string })).toEqual([
      expect.objectContaining({ kind: 'replacement', component: 'comp1' }),
      expect.objectContaining({ kind: 'replacement', component: 'comp4' }),
    ]);
  });
});

describe('azureMessages: device events', () => {
  it('publishes each PdM_errors record of the window as a pdm.event.v1 event before the sample of its hour', () => {
    // Arrange
    const all = loadAzure(DATA);
    const data = sliceAzure(all, MACHINES, FROM, TO);
    // Act
    const msgs = azureMessages(data, MACHINES);
    // Assert: the CSV's errors of these machines from a week before the window to its last hour.
    const events = msgs.filter((m) => m.kind === 'events');
    const last = Math.max(...data.telemetry.map((r) => r.ts));
    const first = Math.min(...data.telemetry.map((r) => r.ts));
    const expected = readFileSync(join(DATA, 'PdM_errors.csv'), 'utf8')
      .trim()
      .split(/\r?\n/)
      .slice(1)
      .map((line) => line.split(','))
      .map(([dt, m, code]) => ({ machine: Number(m), code: code!, ts: Date.parse(`${dt!.replace(' ', 'T')}Z`) }))
      .filter((e) => MACHINES.includes(e.machine) && e.ts > first - 7 * 24 * 3_600_000 && e.ts <= last);
    expect(events).toHaveLength(expected.length);
    expect(events.length).toBeGreaterThan(0);
    for (const m of events) {
      const body = JSON.parse(m.payload) as { schema: string; assetId: string; code: string; severity: string; component?: string };
      expect(m.topic).toBe(`pdm/azure-pdm/machine-${m.machine}/events`);
      expect(body).toMatchObject({ schema: 'pdm.event.v1', assetId: `machine-${m.machine}`, severity: 'warning' });
      const sameHour = msgs.filter((x) => x.machine === m.machine && x.ts === m.ts);
      const sample = sameHour.findIndex((x) => x.kind === 'telemetry');
      if (sample >= 0) expect(sameHour.indexOf(m)).toBeLessThan(sample);
    }
  });
});

describe('replayAzure', () => {
  it('replays 3 machines × 2 weeks through the pipeline with balanced accounting and scores the failures it covers', async () => {
    // Act
    const r: AzureReplayResult = await replayAzure({ dataDir: DATA, machines: MACHINES, from: FROM, to: TO });

    // Assert: every published message reached the pipeline, and the books balance.
    const hours = (TO - Date.UTC(2015, 0, 1, 6)) / 3_600_000;
    expect(r.published.telemetry).toBe(MACHINES.length * hours);
    expect(r.published.refused).toBe(0);
    const s = r.summary;
    expect(s.messages.received).toBe(r.published.telemetry + r.published.maintenance + r.published.events);
    expect(s.messages.accepted + s.messages.quarantined).toBe(s.messages.received);
    expect(s.samples.clean + s.samples.quarantined).toBe(s.samples.received);
    expect(s.readings.clean + s.readings.quarantined).toBe(s.readings.received);
    expect(s.samples.received).toBe(r.published.telemetry);
    expect(s.readings.received).toBe(4 * r.published.telemetry);
    expect(r.balanced).toEqual({ messages: true, samples: true, readings: true });
    expect(s.twins).toBe(MACHINES.length);
    expect(s.onFailure).toBe(0);

    // Assert: the failures are the CSV's, and the score covers exactly them.
    const expected = csvFailures(Date.parse(r.window.first), Date.parse(r.window.last));
    expect(r.failures.map((f) => `${f.machineId}/${f.what}/${f.ts}`).sort()).toEqual(
      expected.map((f) => `${f.machine}/${f.comp}/${f.ts}`).sort(),
    );
    expect(r.score.all.failures).toBe(expected.length);
    expect(r.score.all.strict.preceded).toBeLessThanOrEqual(r.score.all.loose.preceded);
    expect(r.score.march.failures).toBe(0);

    // Assert: alerts belong to the replayed machines, are unique, and caused by replayed samples.
    const ids = new Set(r.alerts.map((a) => a.alertId));
    expect(ids.size).toBe(r.alerts.length);
    for (const a of r.alerts.filter((x) => x.severity !== 'info')) {
      expect(MACHINES.map((m) => `machine-${m}`)).toContain(a.assetId);
      expect(a.seq).toBeGreaterThanOrEqual(1);
      expect(a.seq).toBeLessThanOrEqual(hours);
    }

    // Assert: the CLI's JSON carries the figures without the raw alert list.
    const report = replayReport(r);
    expect(report).not.toHaveProperty('alerts');
    expect(report).toMatchObject({ failuresInWindow: expected.length, balanced: r.balanced });
  }, scaled(40_000));

  it('rejects a machine without telemetry and a bad speed with a named error', async () => {
    await expect(replayAzure({ dataDir: DATA, machines: [99] })).rejects.toThrow(ReplayInputError);
    await expect(replayAzure({ dataDir: DATA, speed: 0 })).rejects.toThrow(ReplayInputError);
  });

  it('finds the shared data by default', () => {
    expect(DEFAULT_AZURE_DIR).toBe(DATA);
  });
});

describe('parseSpeed', () => {
  it('accepts max or a positive number and rejects anything else', () => {
    expect(parseSpeed('max')).toBe('max');
    expect(parseSpeed('24')).toBe(24);
    expect(() => parseSpeed('0')).toThrow(InvalidArgumentError);
    expect(() => parseSpeed('fast')).toThrow(InvalidArgumentError);
  });
});
