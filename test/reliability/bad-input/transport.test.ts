/**
 * Hostile input at the transport: what the broker must refuse before anything reaches the pipeline
 * (IoT Core's quotas), sent through `pdm ingest` between valid messages of the same device, so that a
 * refusal that took the connection down with later messages would show as a loss.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ingestFile } from '../../../local/cli.ts';
import { expectAccounted } from './accounting.ts';
import { RECEIVED_AT } from './corpus.ts';

const dir = mkdtempSync(join(tmpdir(), 'pdm-transport-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOPIC = 'pdm/site-a/pump-001/telemetry';
let seq = 0;
const valid = () => {
  seq += 1;
  const sample = { ts: RECEIVED_AT - 60_000 + seq, seq, readings: { temperature: 55, vibration: 2, pressure: 8.2, flow: 180, rpm: 2900 + seq, current: 72 } };
  return JSON.stringify({ topic: TOPIC, payload: JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: 'pump-001', samples: [sample] }), receivedAt: RECEIVED_AT });
};
const line = (topic: string, payload: string) => JSON.stringify({ topic, payload, receivedAt: RECEIVED_AT });
/** A well-formed message padded to `bytes` with a field cleaning would refuse, if it ever got there. */
const padded = (bytes: number) => {
  const head = JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: 'pump-001', samples: [], pad: '' });
  return head.replace('"pad":""', `"pad":"${'x'.repeat(bytes - head.length)}"`);
};

describe('ingestFile with hostile transport input', () => {
  it('refuses over-quota messages and topics with a counted reason, ends, and loses nothing else on the connection', async () => {
    // Arrange: each hostile line is followed by a valid message of the same device.
    const hostile: [string, string][] = [
      ['payload_too_large', line(TOPIC, padded(790_000))],
      ['payload_too_large', line(TOPIC, padded(128 * 1024 + 1))],
      ['wildcard_in_topic', line('pdm/site-a/pump-001/+', '{}')],
      ['wildcard_in_topic', line('pdm/site-a/pump-001/#', '{}')],
      ['topic_too_deep', line(`pdm/site-a/pump-001/${Array.from({ length: 110 }, (_v, i) => `l${i}`).join('/')}`, '{}')],
      ['topic_too_long', line(`pdm/site-a/pump-001/${'t'.repeat(70_000)}`, '{}')],
      ['topic_too_long', line(`pdm/site-a/pump-001/${'t'.repeat(300)}`, '{}')],
      ['topic_not_allowed', line('pdm/site-b/pump-001/telemetry', '{}')], // pump-001 is registered at site-a
    ];
    const lines: string[] = [valid()];
    for (const [, text] of hostile) lines.push(text, valid());
    const file = join(dir, 'hostile.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);

    // Act
    const s = await ingestFile({ file });

    // Assert: every line ended in exactly one outcome, and all the valid ones went through.
    expectAccounted(s);
    const expected: Record<string, number> = {};
    for (const [reason] of hostile) expected[reason] = (expected[reason] ?? 0) + 1;
    expect({ ...s.refused.byReason }).toEqual(expected);
    expect(s.refused.publishes).toBe(hostile.length);
    expect(s.published).toBe(hostile.length + 1);
    expect(s.messages).toEqual({ received: hostile.length + 1, accepted: hostile.length + 1, quarantined: 0 });
    expect(s.twins).toBe(1);
  }, 120_000);

  it('counts a resent message whose every sample screening quarantined as quarantined, with its readings', async () => {
    // Arrange: the same message twice (a device resending it), then a new one.
    const first = valid();
    const next = valid();
    const file = join(dir, 'resend.jsonl');
    writeFileSync(file, [first, first, next].join('\n') + '\n');

    // Act
    const s = await ingestFile({ file });

    // Assert: accepted means at least one clean sample at the end of both stages.
    expectAccounted(s);
    expect(s.messages).toEqual({ received: 3, accepted: 2, quarantined: 1 });
    expect(s.samples).toEqual({ received: 3, clean: 2, quarantined: 1 });
    expect(s.readings).toEqual({ received: 18, clean: 12, quarantined: 6 });
    expect(s.byReason).toEqual({ duplicate_seq: 1 });
  }, 60_000);

  it('stamps lines without a receive time with the ingest clock, not the payload\'s, so bad device clocks are caught', async () => {
    // Arrange: good samples around RECEIVED_AT, one from 2099 and one with ts 1e308 beside good ones.
    const at = (ts: number, s: number) => ({ ts, seq: s, readings: { temperature: 55, vibration: 2, pressure: 8.2, flow: 180, rpm: 2900, current: 72 } });
    const msg = (samples: unknown[]) => JSON.stringify({ topic: 'pdm/site-a/pump-004/telemetry', payload: JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: 'pump-004', samples }) });
    const file = join(dir, 'clocks.jsonl');
    writeFileSync(
      file,
      [
        msg([at(RECEIVED_AT - 2_000, 1), at(Date.UTC(2099, 0, 1), 2), at(RECEIVED_AT - 1_000, 3)]),
        msg([at(RECEIVED_AT - 500, 4), { ...at(0, 5), ts: 1e308 }]),
        msg([at(Date.UTC(1970, 0, 2), 6)]),
      ].join('\n') + '\n',
    );

    // Act
    const s = await ingestFile({ file, clockStart: RECEIVED_AT });

    // Assert: the good samples pass; only the bad clocks are quarantined.
    expectAccounted(s);
    expect(s.samples).toEqual({ received: 6, clean: 3, quarantined: 3 });
    expect(s.byReason.future_timestamp).toBe(1);
    expect((s.byReason.invalid_timestamp ?? 0) + (s.byReason.stale_timestamp ?? 0)).toBe(2);
    expect(s.byReason.stale_timestamp ?? 0).toBe(0);
  }, 60_000);
});
