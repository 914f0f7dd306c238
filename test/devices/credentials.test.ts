import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectionOptions } from '../../devices/client.ts';
import { CredentialsFileError, loadOrCreateCredentials, readCredentials } from '../../devices/credentials.ts';

const dir = mkdtempSync(join(tmpdir(), 'pdm-credentials-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadOrCreateCredentials', () => {
  it('gives each device its own token, keeps them across calls, and writes a file only its owner reads', () => {
    const file = join(dir, 'a.json');

    const first = loadOrCreateCredentials(file, ['pump-001', 'pump-002']);
    const again = loadOrCreateCredentials(file, ['pump-001', 'pump-002', 'pump-003']);

    expect(first.get('pump-001')).not.toBe(first.get('pump-002'));
    expect(again.get('pump-001')).toBe(first.get('pump-001'));
    expect(again.get('pump-003')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readCredentials(file)).toEqual(again);
  });

  it('refuses a file that is not asset id → token, with a named error', () => {
    const file = join(dir, 'bad.json');
    for (const text of ['not json', '[1]', '{"pump-001": 5}', '{"pump-001": "short"}']) {
      writeFileSync(file, text);
      expect(() => readCredentials(file)).toThrow(CredentialsFileError);
    }
    expect(() => readCredentials(join(dir, 'missing.json'))).toThrow(CredentialsFileError);
  });

  it('keeps an asset named like an Object.prototype member as a plain entry', () => {
    const file = join(dir, 'proto.json');
    writeFileSync(file, `{"__proto__": "${'x'.repeat(20)}", "constructor": "${'y'.repeat(20)}"}`);
    const tokens = readCredentials(file);
    expect(tokens.get('constructor')).toBe('y'.repeat(20));
    expect(tokens.get('__proto__')).toBe('x'.repeat(20));
    expect(tokens.get('toString')).toBeUndefined();
    expect(readFileSync(file, 'utf8')).toContain('constructor');
  });
});

describe('connectionOptions with a local credential', () => {
  it('sends the token as the MQTT password with the client id as user name', () => {
    const { options } = connectionOptions({ assetId: 'pump-001', brokerUrl: 'mqtt://127.0.0.1:1883', credential: 'token-0123456789abcdef' });
    expect(options).toMatchObject({ clientId: 'pump-001', username: 'pump-001', password: 'token-0123456789abcdef' });
  });
});
