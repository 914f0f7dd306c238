import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { singleFileTarGz, TarEntryError, ustarSingleFile } from '../../../lib/sagemaker/tar.ts';

interface Entry {
  readonly name: string;
  readonly size: number;
  readonly type: string;
  readonly content: Buffer;
  readonly checksumOk: boolean;
}

/** An independent reader following the POSIX ustar layout: lists every entry until the zero blocks. */
function readTar(tar: Buffer): Entry[] {
  const entries: Entry[] = [];
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) => header.subarray(start, start + length).toString('ascii').replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12), 8);
    const stored = Number.parseInt(field(148, 8).trim(), 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
    entries.push({
      name: field(0, 100),
      size,
      type: field(156, 1),
      content: tar.subarray(offset + 512, offset + 512 + size),
      checksumOk: stored === sum,
    });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

describe('singleFileTarGz', () => {
  it('holds exactly one regular file with the given name and content', () => {
    const content = Buffer.from('{"learner":{}}');

    const entries = readTar(gunzipSync(singleFileTarGz('xgboost-model', content)));

    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ name: 'xgboost-model', size: content.length, type: '0', checksumOk: true });
    expect(entries[0]!.content.equals(content)).toBe(true);
  });

  it('round-trips any content as the single entry', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        const entries = readTar(gunzipSync(singleFileTarGz('m', bytes)));
        return entries.length === 1 && entries[0]!.checksumOk && entries[0]!.content.equals(Buffer.from(bytes));
      }),
      { numRuns: 50 },
    );
  });

  it('produces identical bytes for identical input, so the asset hash is stable', () => {
    expect(singleFileTarGz('m', Buffer.from('x')).equals(singleFileTarGz('m', Buffer.from('x')))).toBe(true);
  });

  it('pads the archive to whole blocks and ends it with two zero blocks', () => {
    const tar = ustarSingleFile('m', Buffer.alloc(513, 1));

    expect(tar.length % 512).toBe(0);
    expect(tar.subarray(tar.length - 1024).every((b) => b === 0)).toBe(true);
  });

  it.each(['.hidden', 'dir/model', '', 'a'.repeat(101)])('rejects the entry name %j', (name) => {
    expect(() => singleFileTarGz(name, Buffer.from('x'))).toThrow(TarEntryError);
  });
});
