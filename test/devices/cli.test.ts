import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { register } from '../../devices/cli.ts';
import { createFleet, FleetSimulator } from '../../devices/fleet.ts';
import { MaintenanceMessageSchema, TelemetryMessageSchema } from '../../lambdas/core/contract/telemetry.ts';

/** Runs `pdm simulate …` in process and returns what it wrote. */
async function simulate(...args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const program = new Command('pdm').exitOverride().configureOutput({ writeErr: (t) => (err += t), writeOut: (t) => (out += t) });
  register(program, { out: (t) => (out += t), err: (t) => (err += t) });
  await program.parseAsync(['simulate', ...args], { from: 'user' });
  return { out, err };
}

const START = '2026-11-01T00:00:00Z';

describe('pdm simulate', () => {
  it('--dry-run prints one JSON line with topic and payload per message, on the contract', async () => {
    const { out } = await simulate('--dry-run', '--assets', '3', '--ticks', '40', '--start', START, '--samples-per-message', '2');
    const lines = out.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const { topic, payload, ...rest } = JSON.parse(line) as { topic: string; payload: string };
      expect(rest).toEqual({});
      const schema = topic.endsWith('/maintenance') ? MaintenanceMessageSchema : TelemetryMessageSchema;
      expect(schema.safeParse(JSON.parse(payload)).success).toBe(true);
    }
  });

  it('--dry-run prints exactly what FleetSimulator produces for the same options', async () => {
    const { out } = await simulate('--dry-run', '--assets', '4', '--seed', '9', '--ticks', '30', '--start', START, '--interval', '60');
    const sim = new FleetSimulator(createFleet({ assets: 4, seed: 9 }), { seed: 9, start: Date.parse(START), intervalMs: 60_000 });
    const want: string[] = [];
    for (let t = 0; t < 30; t++) for (const m of sim.step()) want.push(JSON.stringify({ topic: m.topic, payload: m.payload }));
    expect(out.trimEnd().split('\n')).toEqual(want);
  });

  it('ends the run at the present unless --start is given', async () => {
    const before = Date.now();
    const { out } = await simulate('--dry-run', '--assets', '1', '--ticks', '5');
    const last = JSON.parse(JSON.parse(out.trimEnd().split('\n').at(-1)!).payload) as { ts: number };
    expect(last.ts).toBeGreaterThanOrEqual(before);
    expect(last.ts).toBeLessThanOrEqual(Date.now());
  });

  it('--realism injects faults, writes their ground truth and reports them in the --json summary', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pdm-sim-')), 'truth.jsonl');
    const { err } = await simulate(
      '--dry-run', '--assets', '4', '--ticks', '200', '--start', START, '--realism', 'spikes,duplicates', '--ground-truth', file, '--json',
    );
    const summary = JSON.parse(err) as { faults: Record<string, number>; messages: { generated: number } };
    const truth = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { kind: string });
    expect(Object.keys(summary.faults).sort()).toEqual(['duplicate', 'spike']);
    expect(truth).toHaveLength(summary.faults.spike! + summary.faults.duplicate!);
  });

  it('publishes nothing and explains when the target is ambiguous', async () => {
    await expect(simulate('--dry-run', '--broker', 'mqtt://127.0.0.1:1', '--ticks', '1')).rejects.toThrow(
      /exactly one of --broker, --iot-endpoint and --dry-run/,
    );
    await expect(simulate('--iot-endpoint', 'x.example', '--ticks', '1')).rejects.toThrow(/needs --cert-dir and --ca/);
    await expect(simulate('--dry-run', '--realism', 'gremlins', '--ticks', '1')).rejects.toThrow(/unknown realism kind "gremlins"/);
  });
});
