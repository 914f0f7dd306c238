/**
 * Per-device credentials of the local broker (local/runtime/broker.ts): one random token per registered asset, standing in for
 * the X.509 client certificate IoT Core authenticates a thing by (why a token and not a certificate:
 * docs/local-mode.md, "Device credentials"). Kept in a JSON file readable by the owner only, so a
 * restart with the same data dir, and `pdm simulate --credentials`, use the same tokens.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export const CREDENTIALS_FILE = 'device-credentials.json';

/** A credentials file that cannot be read as `{ "<assetId>": "<token>" }`. */
export class CredentialsFileError extends Error {
  override readonly name: string = 'CredentialsFileError';
}

/** Reads `{ assetId: token }` into a Map (never an object lookup: asset ids come from users). */
export function readCredentials(file: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CredentialsFileError(`${file}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CredentialsFileError(`${file} is not a JSON object of asset id → token`);
  }
  const out = new Map<string, string>();
  for (const [id, token] of Object.entries(parsed)) {
    if (typeof token !== 'string' || token.length < 16) throw new CredentialsFileError(`${file}: the token of ${id} is not a string of 16+ characters`);
    out.set(id, token);
  }
  return out;
}

/** Keeps the tokens already in `file`, adds one for every asset without, and writes the file (mode 0600). */
export function loadOrCreateCredentials(file: string, assetIds: readonly string[]): Map<string, string> {
  const tokens = existsSync(file) ? readCredentials(file) : new Map<string, string>();
  let added = false;
  for (const id of assetIds) {
    if (tokens.has(id)) continue;
    tokens.set(id, randomBytes(24).toString('base64url'));
    added = true;
  }
  if (added || !existsSync(file)) {
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(Object.fromEntries(tokens), null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  }
  return tokens;
}
