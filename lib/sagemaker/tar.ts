/**
 * A minimal, deterministic ustar + gzip writer for SageMaker model data. The built-in XGBoost
 * container loads every file it finds in the model directory and averages them (ensemble mode is on
 * by default), so each archive must hold exactly one regular file: this writer accepts one entry only.
 * Fixed mtime, uid/gid and mode make the bytes (and the CDK asset hash) a function of the content.
 */
import { gzipSync } from 'node:zlib';

const BLOCK = 512;

export class TarEntryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarEntryError';
  }
}

function writeString(header: Buffer, value: string, offset: number, length: number): void {
  header.write(value, offset, length, 'ascii');
}

function writeOctal(header: Buffer, value: number, offset: number, length: number): void {
  // ustar numeric fields: zero-padded octal, terminated by NUL within the field width.
  const text = value.toString(8).padStart(length - 1, '0');
  if (text.length > length - 1) throw new TarEntryError(`value ${value} does not fit a ${length}-byte tar field`);
  writeString(header, `${text}\0`, offset, length);
}

/** Builds the uncompressed ustar stream holding one file `name` with `content`. */
export function ustarSingleFile(name: string, content: Uint8Array): Buffer {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(name) || name === '.' || name === '..' || name.startsWith('.')) {
    // A leading dot would make the container skip the file as hidden; a slash would create a directory.
    throw new TarEntryError(`tar entry name "${name}" must be a plain, non-hidden file name of at most 100 characters`);
  }
  const header = Buffer.alloc(BLOCK, 0);
  writeString(header, name, 0, 100);
  writeOctal(header, 0o644, 100, 8); // mode
  writeOctal(header, 0, 108, 8); // uid
  writeOctal(header, 0, 116, 8); // gid
  writeOctal(header, content.length, 124, 12); // size
  writeOctal(header, 0, 136, 12); // mtime: fixed for reproducible assets
  header.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  writeString(header, '0', 156, 1); // typeflag: regular file
  writeString(header, 'ustar\0', 257, 6);
  writeString(header, '00', 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  writeString(header, `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);

  const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
  // Two zero blocks end the archive.
  return Buffer.concat([header, Buffer.from(content), Buffer.alloc(padding + 2 * BLOCK, 0)]);
}

/** A `model.tar.gz` body holding exactly one file. */
export function singleFileTarGz(name: string, content: Uint8Array): Buffer {
  return gzipSync(ustarSingleFile(name, content), { level: 9 });
}
