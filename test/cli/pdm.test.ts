import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

function pdm(...args: string[]): string {
  return execFileSync(process.execPath, [join(ROOT, 'bin/pdm.mjs'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
}

describe('pdm command line', () => {
  it('local --json runs the embedded runtime and prints one summary in which everything is accounted for', () => {
    const summary = JSON.parse(
      pdm('local', '--assets', '6', '--duration', '4', '--speed', '30000', '--fault-rate', '0.1', '--no-dashboard', '--json'),
    );
    expect(summary.latencyMs.p50).toBeGreaterThan(0);
    expect(summary.messages.accepted + summary.messages.quarantined).toBe(summary.messages.received);
    expect(summary.samples.clean + summary.samples.quarantined).toBe(summary.samples.received);
    expect(summary.readings.clean + summary.readings.quarantined).toBe(summary.readings.received);
    const quarantined = Object.values(summary.byReason as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(quarantined).toBeGreaterThan(0);
    expect(summary.twins).toBe(6);
  });

  it('bench --json reports core and decode-only throughput and their ratio', () => {
    const result = JSON.parse(pdm('bench', '--records', '1500', '--passes', '1', '--json'));
    expect(result.coreReadingsPerSec).toBeGreaterThan(0);
    expect(result.decodeOnlyReadingsPerSec).toBeGreaterThan(0);
    expect(result.ratio).toBeCloseTo(result.coreReadingsPerSec / result.decodeOnlyReadingsPerSec, 2);
  });

  it('refuses a bad option with a clear message', () => {
    expect(() => pdm('local', '--assets', 'many')).toThrow(/expected a positive integer/);
  });
});
