import { describe, expect, it } from 'vitest';
import { parseIngestLine } from '../../local/cli.ts';

const topic = 'pdm/site-a/pump-001/telemetry';

describe('parseIngestLine', () => {
  it('takes text from "payload" and bytes from "payloadBase64", byte for byte', () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x22]); // "{", two bytes that are not UTF-8, NUL, '"'

    const text = parseIngestLine(JSON.stringify({ topic, payload: '{"a":1}' }));
    const binary = parseIngestLine(JSON.stringify({ topic, payloadBase64: bytes.toString('base64') }));

    expect(text).toEqual({ topic, payload: '{"a":1}' });
    expect(typeof binary).toBe('object');
    expect(Buffer.compare((binary as { payload: Buffer }).payload, bytes)).toBe(0);
  });

  it.each([
    ['not JSON', '{topic', 'not JSON'],
    ['an array', '[1]', 'not a JSON object'],
    ['no topic', JSON.stringify({ payload: 'x' }), 'missing "topic" string'],
    ['no payload', JSON.stringify({ topic }), 'missing "payload" or "payloadBase64" string'],
    ['both payloads', JSON.stringify({ topic, payload: 'x', payloadBase64: 'eA==' }), 'both "payload" and "payloadBase64": give one'],
    ['base64 with a stray character', JSON.stringify({ topic, payloadBase64: 'eA=!' }), '"payloadBase64" is not base64'],
    ['base64 cut short', JSON.stringify({ topic, payloadBase64: 'eAb' }), '"payloadBase64" is not base64'],
  ])('says what is wrong with %s', (_name, line, reason) => {
    expect(parseIngestLine(line)).toBe(reason);
  });
});

describe('parseIngestLine receivedAt', () => {
  it('keeps a capture\'s receive time, as epoch ms or ISO-8601', () => {
    const ms = Date.UTC(2026, 0, 15, 12);

    expect(parseIngestLine(JSON.stringify({ topic, payload: '{}', receivedAt: ms }))).toEqual({ topic, payload: '{}', receivedAt: ms });
    expect(parseIngestLine(JSON.stringify({ topic, payload: '{}', receivedAt: '2026-01-15T12:00:00Z' }))).toEqual({ topic, payload: '{}', receivedAt: ms });
    expect(parseIngestLine(JSON.stringify({ topic, payload: '{}' }))).toEqual({ topic, payload: '{}' });
  });

  it.each([
    ['epoch seconds', Math.floor(Date.UTC(2026, 0, 15) / 1000)],
    ['a huge number', 1e308],
    ['a fraction', 1.5e12 + 0.5],
    ['words', 'last tuesday'],
    ['year 2099 as text past the range', '2101-01-01T00:00:00Z'],
  ])('refuses %s as a receive time', (_name, receivedAt) => {
    expect(parseIngestLine(JSON.stringify({ topic, payload: '{}', receivedAt }))).toMatch(/^"receivedAt" is not/);
  });
});
