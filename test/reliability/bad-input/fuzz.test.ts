import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFleet, fleetLookup } from '../../../devices/fleet.ts';
import { type CleanResult, cleanMessage, type RawMessage, REASONS } from '../../../lambdas/core/cleaning/index.ts';
import { CORPUS_FILE, loadCorpus, RECEIVED_AT } from './corpus.ts';

/** Runs per property; four properties, about 2,000 messages in all. Raise with BAD_INPUT_FUZZ_RUNS. */
const RUNS = Number(process.env.BAD_INPUT_FUZZ_RUNS ?? 500);

const ctx = { lookupAsset: fleetLookup(createFleet({ assets: 12, seed: 1 })) };
const corpus = loadCorpus(readFileSync(CORPUS_FILE, 'utf8'));
// Seeds for mutation: the corpus messages the contract accepts, as text.
const seeds = corpus.cases.filter((c) => c.expect.outcome === 'accepted' && typeof c.payload === 'string' && c.payload.length < 20_000);
const TOPICS = [...new Set(corpus.cases.map((c) => c.topic))];

/** Cleans one message and checks the invariants the pipeline's accounting rests on. */
function cleanAndCheck(topic: string, payload: string | Uint8Array): CleanResult {
  const raw: RawMessage = { topic, payload, messageId: 'fuzz', receivedAt: RECEIVED_AT };
  let result: CleanResult | undefined;
  expect(() => {
    result = cleanMessage(raw, ctx);
  }).not.toThrow();
  const r = result!;
  const { counts, quarantine } = r;
  expect(counts.messages.received).toBe(1);
  expect(counts.messages.accepted + counts.messages.quarantined).toBe(1);
  expect(counts.samples.clean + counts.samples.quarantined).toBe(counts.samples.received);
  expect(counts.readings.clean + counts.readings.quarantined).toBe(counts.readings.received);
  expect(r.samples).toHaveLength(counts.samples.clean);
  // Accepted means something went on; quarantined means a record says why.
  if (counts.messages.accepted === 1) expect(r.samples.length + r.maintenance.length).toBeGreaterThan(0);
  else expect(quarantine.length).toBeGreaterThan(0);
  const sentNothing = payload.length === 0;
  for (const q of quarantine) {
    expect(q.level).toBe(REASONS[q.reason]);
    expect(q.messageId).toBe('fuzz');
    expect(q.detail.length).toBeGreaterThan(0);
    if (!sentNothing) expect(q.payload.length).toBeGreaterThan(0);
  }
  const messageLevel = quarantine.filter((q) => q.level === 'message');
  if (messageLevel.length > 0) {
    expect(quarantine).toHaveLength(1);
    expect(counts.samples.clean).toBe(0);
  } else if (r.kind === 'telemetry') {
    // Each quarantined sample has exactly one sample-level record.
    expect(quarantine.filter((q) => q.level === 'sample')).toHaveLength(counts.samples.quarantined);
  }
  // Clean data is clean: finite numbers only.
  for (const s of r.samples) for (const v of Object.values(s.readings)) expect(Number.isFinite(v)).toBe(true);
  return r;
}

const topic = fc.oneof(fc.constantFrom(...TOPICS), fc.string({ maxLength: 40 }));
// UTF-16 code units of any value, so lone surrogates and NUL appear often.
const anyUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 200 });
const nasty = fc.constantFrom('NaN', 'Infinity', '1e400', '-1e400', '9007199254740993', '\u0000', '\uD800', '\u202E', '__proto__', "'; DROP TABLE x;--", '${jndi:ldap://x/a}', '<script>', '../../etc', '[[[[[[[[[[', '{', '"', '\\');

/** Structural mutations of a parsed message: replace, delete or add a value somewhere in it. */
function mutate(value: unknown, path: readonly number[], replacement: unknown, mode: number): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return replacement;
  const keys = Object.keys(value);
  if (keys.length === 0) return replacement;
  const key = keys[path[0]! % keys.length]!;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const child = (value as Record<string, unknown>)[key];
  if (path.length === 1 && mode === 1) delete (copy as Record<string, unknown>)[key];
  else if (path.length === 1 && mode === 2) (copy as Record<string, unknown>)[`${key}_`] = replacement;
  else (copy as Record<string, unknown>)[key] = mutate(child, path.slice(1), replacement, mode);
  return copy;
}

describe('cleanMessage under fuzzing', () => {
  it('keeps its invariants for arbitrary bytes', () => {
    fc.assert(
      fc.property(topic, fc.uint8Array({ maxLength: 400 }), (t, bytes) => {
        cleanAndCheck(t, bytes);
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps its invariants for arbitrary strings, lone surrogates included', () => {
    fc.assert(
      fc.property(topic, fc.oneof(anyUnits, fc.string({ unit: 'binary', maxLength: 200 }), fc.json()), (t, text) => {
        cleanAndCheck(t, text);
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps its invariants for JSON-ish envelopes of arbitrary content', () => {
    const sample = fc.oneof(
      fc.record({ ts: fc.oneof(fc.integer(), fc.string(), fc.constant(RECEIVED_AT - 60_000)), seq: fc.oneof(fc.nat(), fc.double(), fc.string()), readings: fc.dictionary(fc.oneof(fc.constantFrom('temperature', 'vibration', 'volt', 'rpm'), fc.string()), fc.oneof(fc.double(), fc.jsonValue())) }, { requiredKeys: [] }),
      fc.jsonValue(),
    );
    const envelope = fc.record(
      {
        schema: fc.oneof(fc.constantFrom('pdm.telemetry.v1', 'pdm.maintenance.v1'), fc.jsonValue()),
        assetId: fc.oneof(fc.constantFrom('pump-001', 'machine-002', 'pump-004'), fc.jsonValue()),
        samples: fc.oneof(fc.array(sample, { maxLength: 8 }), fc.jsonValue()),
        kind: fc.constantFrom('inspection', 'repair', 'replacement', 'explosion'),
        ts: fc.oneof(fc.constant(new Date(RECEIVED_AT - 1000).toISOString()), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.constantFrom(...TOPICS), envelope, (t, body) => {
        cleanAndCheck(t, JSON.stringify(body));
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps its invariants for mutated valid messages', () => {
    const textEdit = fc.record({ at: fc.nat(), len: fc.nat({ max: 8 }), insert: fc.oneof(nasty, anyUnits) });
    const structural = fc.record({ path: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), value: fc.oneof(fc.jsonValue(), nasty), mode: fc.nat({ max: 2 }) });
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.oneof(textEdit, structural), (seed, edit) => {
        const text = seed.payload as string;
        let payload: string;
        if ('at' in edit) {
          const at = edit.at % (text.length + 1);
          payload = text.slice(0, at) + edit.insert + text.slice(at + edit.len);
        } else {
          payload = JSON.stringify(mutate(JSON.parse(text), edit.path, edit.value, edit.mode));
        }
        cleanAndCheck(seed.topic, payload);
      }),
      { numRuns: RUNS },
    );
  });

  it('accepts the unmutated seeds, so the mutations start from valid input', () => {
    for (const s of seeds) expect(cleanAndCheck(s.topic, s.payload).counts.messages.accepted, s.id).toBe(1);
  });
});
