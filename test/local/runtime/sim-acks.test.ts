import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSimAcks, simAckLine, simMessageKey, simSentLine, writeSimAcks } from '../../../local/runtime/state.ts';

const dir = mkdtempSync(join(tmpdir(), 'pdm-sim-acks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the simulator ack log', () => {
  it('keeps two messages of one asset in one tick apart: acknowledging the event does not acknowledge the telemetry', () => {
    const file = join(dir, 'two.log');
    // Tick 7: message 0 is the asset's telemetry, message 1 its device event; only the event was acknowledged.
    writeFileSync(file, simSentLine(7) + simAckLine(7, simMessageKey(1)));
    const log = readSimAcks(file, 6);
    expect(log.acked.get(7)?.has(simMessageKey(1))).toBe(true);
    expect(log.acked.get(7)?.has(simMessageKey(0))).toBe(false);
    expect(log.lastSent).toBe(7);
  });

  it('knows the last tick sent even when none of its messages was acknowledged', () => {
    const file = join(dir, 'sent.log');
    writeFileSync(file, simSentLine(4) + simAckLine(4, '0') + simSentLine(5) + simSentLine(6));
    const log = readSimAcks(file, 3);
    expect(log.lastSent).toBe(6);
    expect([...log.acked.keys()]).toEqual([4]);
  });

  it('ignores what the saved state already covers, a torn last line and lines of the older asset-keyed form', () => {
    const file = join(dir, 'torn.log');
    writeFileSync(file, simSentLine(2) + simAckLine(2, '0') + '3\tpump-01\n' + simSentLine(3) + simAckLine(3, '1'));
    appendFileSync(file, '3\tack\t');
    const log = readSimAcks(file, 2);
    expect([...log.acked.entries()].map(([t, k]) => [t, [...k]])).toEqual([[3, ['1']]]);
    expect(log.lastSent).toBe(3);
  });

  it('round-trips through a rewrite after a save, dropping the ticks the save covers', () => {
    const file = join(dir, 'rewrite.log');
    const acked = new Map([
      [10, new Set(['0', '2'])],
      [12, new Set(['1'])],
    ]);
    writeSimAcks(file, { acked, lastSent: 13 }, 10);
    const log = readSimAcks(file, 10);
    expect([...log.acked.entries()].map(([t, k]) => [t, [...k]])).toEqual([[12, ['1']]]);
    expect(log.lastSent).toBe(13);
    // Nothing sent after the saved tick: an empty log.
    writeSimAcks(file, { acked: new Map(), lastSent: 9 }, 10);
    expect(readFileSync(file, 'utf8')).toBe('');
    expect(readSimAcks(file, 10)).toEqual({ acked: new Map(), lastSent: 0 });
  });

  it('reads a missing log as nothing sent', () => {
    expect(readSimAcks(join(dir, 'absent.log'), 0)).toEqual({ acked: new Map(), lastSent: 0 });
  });
});
