/** sha256 helpers for the bundle: file checksums and the hash of generated training data. */
import { createHash, type Hash } from 'node:crypto';

/** Lower-case hex sha256 of bytes or of a string's UTF-8 encoding. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** An incremental sha256 for data produced piece by piece (a simulation, a matrix). */
export function dataHasher(): { update(part: string | Uint8Array): void; hex(): string } {
  const h: Hash = createHash('sha256');
  return {
    update(part) {
      h.update(part);
    },
    hex: () => h.digest('hex'),
  };
}
