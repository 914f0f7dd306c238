import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TwinHealthChangedDetail } from '../../../lambdas/core/alerts/policy.ts';
import type { Twin } from '../../../lambdas/core/twin/twin.ts';
import { type LocalRuntime, startLocalRuntime } from '../../../local/runtime/runtime.ts';
import { compareRuns } from './compare.ts';
import { scaled } from '../../support/env.ts';

const OPTIONS = { assets: 4, seed: 3, ticks: 240 };
/** 20 ticks per real second: the child's run spans ~12 s, so a periodic save (every 5 s) precedes the kill. */
const CHILD_SPEED = 12_000;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function outcome(rt: LocalRuntime, deliveries: readonly TwinHealthChangedDetail[]) {
  const twins = new Map<string, Twin>();
  const telemetry = new Set<string>();
  for (const a of rt.fleetAssets) {
    const t = await rt.twin(a.assetId);
    if (t) twins.set(a.assetId, t);
    for (const p of await rt.history(a.assetId, 1_000_000)) telemetry.add(`${a.assetId}:${p.seq}`);
  }
  return { twins, telemetry, deliveries };
}

function snsDeliveries(file: string): TwinHealthChangedDetail[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as { kind: string; message?: string })
    .filter((d) => d.kind === 'sns')
    .map((d) => (JSON.parse(d.message!) as { detail: TwinHealthChangedDetail }).detail);
}

describe('local runtime killed mid-run (SIGKILL) and restarted on its data dir', () => {
  it('ends with the twins, telemetry and alert set of an uninterrupted run', async () => {
    // Arrange: the uninterrupted reference.
    const refDir = mkdtempSync(join(tmpdir(), 'pdm-kill-ref-'));
    dirs.push(refDir);
    const ref = await startLocalRuntime({ assets: OPTIONS.assets, seed: OPTIONS.seed, logLevel: 'SILENT', alerts: { jsonlPath: join(refDir, 'a.jsonl') } });
    await ref.simulate({ speed: 1e7, ticks: OPTIONS.ticks });
    await ref.drain();
    const clean = await outcome(ref, snsDeliveries(join(refDir, 'a.jsonl')));
    const refSummary = await ref.summary();
    await ref.stop();

    // Act: a child process runs the same fleet on a data dir and is killed some time after a periodic save.
    const dir = mkdtempSync(join(tmpdir(), 'pdm-kill-'));
    dirs.push(dir);
    const jsonl = join(dir, 'alerts.jsonl');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'kill-child.ts'), dir, jsonl, JSON.stringify({ ...OPTIONS, speed: CHILD_SPEED })],
      { cwd: join(import.meta.dirname, '..', '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let finished = false;
    child.stdout.on('data', (b: Buffer) => (finished ||= b.toString().includes('finished')));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const stateFile = join(dir, 'runtime-state.json');
    const deadline = Date.now() + scaled(30_000);
    while (!existsSync(stateFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // Off the save's beat, so work done after the last save is lost with the process and must be redone.
    await new Promise((r) => setTimeout(r, 1_300));
    child.kill('SIGKILL');
    const signal = await exited;
    const savedTick = (JSON.parse(readFileSync(stateFile, 'utf8')) as { sim: { tick: number } }).sim.tick;

    const resumed = await startLocalRuntime({ assets: OPTIONS.assets, seed: OPTIONS.seed, dataDir: dir, logLevel: 'SILENT', alerts: { jsonlPath: jsonl } });
    await resumed.simulate({ speed: 1e7, ticks: OPTIONS.ticks - savedTick });
    await resumed.drain();
    const faulty = await outcome(resumed, snsDeliveries(jsonl));
    const summary = await resumed.summary();
    await resumed.stop();
    // The screening tallies are compared through the summary below: a real resend changes them.
    const f = compareRuns(clean, faulty, ['tally']);
    console.table({ 'local process SIGKILL + restart': { ...f, killedAtSavedTick: savedTick, rawDeliveries: faulty.deliveries.length } });

    // Assert: it was a real kill mid-run, and the restarted runtime made up for it.
    expect(signal).toBe('SIGKILL');
    expect(finished).toBe(false);
    expect(savedTick).toBeGreaterThan(0);
    expect(savedTick).toBeLessThan(OPTIONS.ticks);
    expect(f.lostToTwins).toBe(0);
    expect(f.lostToTelemetry).toBe(0);
    expect(f.twinsDiffering).toBe(0);
    expect(f.alertSetEqual).toBe(true);
    expect(f.alertsDuplicated).toBe(0);
    // The counters: the summary of an uninterrupted run. Only the messages of the tick in flight at the
    // kill that were never acknowledged are sent again (a device's QoS 1 retry, \`sim.resent\`); one that
    // had reached the stream before the kill is a real resend and is screened as duplicate_seq.
    const resent = summary.sim?.resent ?? 0;
    const extra = summary.messages.received - refSummary.messages.received;
    console.table({ counters: { resent, extraMessages: extra, duplicateSeq: summary.byReason.duplicate_seq ?? 0 } });
    expect(extra).toBeGreaterThanOrEqual(0);
    expect(extra).toBeLessThanOrEqual(resent);
    expect(summary.messages).toEqual({ received: refSummary.messages.received + extra, accepted: refSummary.messages.accepted, quarantined: refSummary.messages.quarantined + extra });
    expect(summary.samples.clean).toBe(refSummary.samples.clean);
    expect(summary.readings.clean).toBe(refSummary.readings.clean);
    // duplicate_seq counts quarantine records of both kinds: a resent telemetry message's samples and a
    // resent device-event message (which carries no sample). Only the first kind moves samples.
    const eventDuplicates = (twins: ReadonlyMap<string, Twin>) =>
      [...twins.values()].reduce((n, t) => n + (t.eventScreen?.tally?.byReason.duplicate_seq ?? 0), 0);
    const resentEvents = eventDuplicates(faulty.twins) - eventDuplicates(clean.twins);
    expect(resentEvents).toBeGreaterThanOrEqual(0);
    expect(summary.samples.quarantined - refSummary.samples.quarantined).toBe(
      (summary.byReason.duplicate_seq ?? 0) - (refSummary.byReason.duplicate_seq ?? 0) - resentEvents,
    );
    expect({ ...summary.byReason, duplicate_seq: 0 }).toEqual({ ...refSummary.byReason, duplicate_seq: 0 });
    expect(summary.alerts).toEqual(refSummary.alerts);
    expect(summary.refused).toEqual(refSummary.refused);
    expect(summary.onFailure).toBe(0);
  }, scaled(180_000));
});
