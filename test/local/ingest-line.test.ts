import { describe, expect, it } from 'vitest';
import { parseIngestLine, payloadTime } from '../../local/cli.ts';

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

describe('payloadTime', () => {
  it('reads the newest sample time from text or bytes, and nothing from bytes that are not JSON', () => {
    const body = JSON.stringify({ samples: [{ ts: 1_000 }, { ts: '1970-01-01T00:00:03.000Z' }] });

    expect(payloadTime(body)).toBe(3_000);
    expect(payloadTime(Buffer.from(body))).toBe(3_000);
    expect(payloadTime(Buffer.from([0xff, 0xfe]))).toBeUndefined();
  });
});
