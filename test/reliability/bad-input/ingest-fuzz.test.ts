import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { ingestFile } from '../../../local/cli.ts';
import { CORPUS_FILE, loadCorpus } from './corpus.ts';
import { expectAccounted } from './accounting.ts';
import { scaled } from '../../support/env.ts';

/** Each run starts a whole local runtime (a fraction of a second to a few seconds), so only a few. Raise with BAD_INPUT_INGEST_RUNS. */
const RUNS = Number(process.env.BAD_INPUT_INGEST_RUNS ?? 5);

const dir = mkdtempSync(join(tmpdir(), 'pdm-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const textCases = loadCorpus(readFileSync(CORPUS_FILE, 'utf8')).cases.filter(
  (c): c is typeof c & { payload: string } => typeof c.payload === 'string' && c.payload.length < 10_000,
);
const units = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 120 });
const registered = fc.constantFrom('pdm/site-a/pump-001', 'pdm/site-b/machine-002', 'pdm/site-a/pump-004');

/** A file line: a corpus message, a random payload on a real or junk topic, or a line that is not an entry at all. */
const line = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...textCases).map((c) => JSON.stringify({ topic: c.topic, payload: c.payload })) },
  {
    weight: 3,
    arbitrary: fc
      .record({ t: registered, kind: fc.constantFrom('telemetry', 'maintenance'), payload: fc.oneof(units, fc.json(), fc.string({ unit: 'binary' })) })
      .map(({ t, kind, payload }) => JSON.stringify({ topic: `${t}/${kind}`, payload })),
  },
  { weight: 1, arbitrary: fc.record({ t: registered, junk: units, payload: fc.json() }).map(({ t, junk, payload }) => JSON.stringify({ topic: `${t}/${junk}`, payload })) },
  { weight: 1, arbitrary: fc.record({ topic: units, payload: units }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.oneof(units, fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))) },
);

describe('ingestFile under fuzzing', () => {
  it('never throws and accounts for every line of random files', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 40 }), async (lines) => {
        run += 1;
        const file = join(dir, `fuzz-${run}.jsonl`);
        writeFileSync(file, `${lines.join('\n')}\n`);
        const s = await ingestFile({ file });
        expectAccounted(s);
      }),
      { numRuns: RUNS },
    );
  }, scaled(120_000));
});
