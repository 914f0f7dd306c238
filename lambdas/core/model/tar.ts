/**
 * The one-file ustar archives of SageMaker model data, both ways. The built-in XGBoost container loads
 * every file it finds in the model directory and averages them (ensemble mode is on by default), so
 * an archive must hold exactly one regular file: the writer takes one entry only, the reader refuses
 * any other count. SageMaker's training output `model.tar.gz` holds one file `xgboost-model`
 * (notes/lifecycle-and-provisioning.md §2, sagemaker-xgboost-container `algorithm_mode/train.py`).
 * Fixed mtime, uid/gid and mode make the written bytes a function of the content. Pure: gzip is the
 * caller's (lib/sagemaker/tar.ts, the registry adapter).
 */
const BLOCK = 512;

export class TarReadError extends Error {
  override readonly name: string = 'TarReadError';
}

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

function text(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return new TextDecoder('latin1').decode(b.subarray(off, end));
}

function octal(b: Uint8Array, off: number, len: number, field: string): number {
  const s = text(b, off, len).trim();
  if (!/^[0-7]+$/.test(s)) throw new TarReadError(`tar header field ${field} is not octal: "${s}"`);
  return parseInt(s, 8);
}

export interface TarFile {
  readonly name: string;
  readonly content: Uint8Array;
}

/**
 * The regular files of the archive (directories, links and pax headers are skipped).
 * @throws TarReadError on a truncated archive or a bad header checksum.
 */
export function tarFiles(tar: Uint8Array): TarFile[] {
  const files: TarFile[] = [];
  let off = 0;
  while (off + BLOCK <= tar.length) {
    const header = tar.subarray(off, off + BLOCK);
    if (header.every((x) => x === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
    if (sum !== octal(header, 148, 8, 'chksum')) throw new TarReadError(`tar header at byte ${off} has a bad checksum`);
    const size = octal(header, 124, 12, 'size');
    const type = String.fromCharCode(header[156]!);
    const prefix = text(header, 345, 155);
    const name = (prefix ? `${prefix}/` : '') + text(header, 0, 100);
    const start = off + BLOCK;
    if (start + size > tar.length) throw new TarReadError(`tar entry ${name} is truncated: ${size} bytes declared, ${tar.length - start} present`);
    if (type === '0' || type === '\0') files.push({ name: name.replace(/^\.\//, ''), content: tar.slice(start, start + size) });
    off = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}

/**
 * The content of the archive's only regular file.
 * @throws TarReadError when the archive holds no file or more than one (the built-in XGBoost container
 * would average several files as an ensemble, which is not the model that was evaluated).
 */
export function singleTarFile(tar: Uint8Array): TarFile {
  const files = tarFiles(tar);
  if (files.length !== 1) throw new TarReadError(`model archive holds ${files.length} files (${files.map((f) => f.name).join(', ') || 'none'}); expected exactly one`);
  return files[0]!;
}
