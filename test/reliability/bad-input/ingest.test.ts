import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestFile } from '../../../local/cli.ts';
import { expectAccounted } from './accounting.ts';
import { buildCorpus, CORPUS_FILE, RECEIVED_AT } from './corpus.ts';
import { scaled } from '../../support/env.ts';

describe('ingestFile with the bad-input corpus', () => {
  it('runs the whole corpus through the local runtime without a crash and accounts for all of it', async () => {
    // Arrange: the lines that are not entries at all (byte payloads go in as payloadBase64).
    const lines = buildCorpus();
    const broken = lines.map((l, i) => (l.kind === 'broken' ? i + 1 : 0)).filter((n) => n > 0);
    const bytes = lines.filter((l) => l.kind === 'case' && l.value.payload === undefined).length;

    // Act: the corpus's timestamps are meant to be judged against RECEIVED_AT.
    const s = await ingestFile({ file: CORPUS_FILE, clockStart: RECEIVED_AT });

    // Assert
    expect(s.lines).toBe(lines.length);
    expect(bytes).toBeGreaterThan(0);
    expect(s.fileErrors).toBe(broken.length);
    expect(s.fileErrorSamples.map((e) => e.line)).toEqual(broken);
    expectAccounted(s);
    expect(s.byReason.invalid_encoding ?? 0).toBeGreaterThan(0);
    expect(s.messages.accepted).toBeGreaterThan(0);
  }, scaled(120_000));

  // Regression: a finite reading inside the catalog range but below DynamoDB's smallest number magnitude
  // (1e-130) passes cleaning; every twin write of the asset used to fail with "Number underflow", the
  // records were retried and sent to the failure destination, and the twin was never written.
  it('writes the twin of an asset whose reading is below DynamoDB\'s smallest magnitude', async () => {
    // Arrange: one valid message; vibration 1e-131 mm/s is inside [0, 50].
    const dir = mkdtempSync(join(tmpdir(), 'pdm-underflow-'));
    const file = join(dir, 'tiny.jsonl');
    const payload = JSON.stringify({
      schema: 'pdm.telemetry.v1',
      assetId: 'pump-001',
      samples: [{ ts: Date.UTC(2026, 0, 15), seq: 1, readings: { temperature: 59, vibration: 1e-131, pressure: 8.8, flow: 188, rpm: 2901, current: 71 } }],
    });
    writeFileSync(file, `${JSON.stringify({ topic: 'pdm/site-a/pump-001/telemetry', payload, receivedAt: Date.UTC(2026, 0, 15, 0, 0, 1) })}\n`);

    // Act
    const s = await ingestFile({ file });
    rmSync(dir, { recursive: true, force: true });

    // Assert
    expect(s.messages.accepted).toBe(1);
    expect(s.onFailure).toBe(0);
    expect(s.twins).toBe(1);
  }, scaled(60_000));
});
