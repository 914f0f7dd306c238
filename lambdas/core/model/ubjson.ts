/**
 * A UBJSON decoder for the subset XGBoost writes (and the rest of the draft-12 markers, so a model from
 * another writer decodes too). Big-endian throughout. Typed arrays (`[$<type>#<count>`) decode to JS typed
 * arrays so the loader reads tree arrays without boxing every number.
 */
import { ModelFormatError } from './errors.ts';

/** A decoded UBJSON value. Objects have a null prototype so a `__proto__` key stays a plain key. */
export type UbjValue =
  | null
  | boolean
  | number
  | string
  | UbjValue[]
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Int32Array
  | { [key: string]: UbjValue };

// 2^53: int64 values above it cannot be represented exactly as a JS number.
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_DEPTH = 256;

const MARKER_SIZE: Readonly<Record<string, number>> = { i: 1, U: 1, I: 2, l: 4, L: 8, d: 4, D: 8, C: 1 };

class Reader {
  pos = 0;
  private readonly view: DataView;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(message: string): never {
    throw new ModelFormatError(`UBJSON: ${message} at byte ${this.pos}`);
  }

  need(n: number): void {
    if (this.pos + n > this.bytes.length) this.fail(`unexpected end of data (needed ${n} more bytes)`);
  }

  marker(): string {
    // N is the no-op marker; it may appear wherever a marker is expected.
    for (;;) {
      this.need(1);
      const m = String.fromCharCode(this.bytes[this.pos++]!);
      if (m !== 'N') return m;
    }
  }

  peek(): string {
    this.need(1);
    return String.fromCharCode(this.bytes[this.pos]!);
  }

  int64(): number {
    this.need(8);
    const v = this.view.getBigInt64(this.pos, false);
    this.pos += 8;
    if (v > MAX_SAFE || v < -MAX_SAFE) this.fail(`int64 ${v} does not fit a JS number exactly`);
    return Number(v);
  }

  /** A scalar numeric value of the given marker. */
  number(m: string): number {
    const v = this.view;
    const p = this.pos;
    switch (m) {
      case 'i':
        this.need(1);
        this.pos += 1;
        return v.getInt8(p);
      case 'U':
        this.need(1);
        this.pos += 1;
        return v.getUint8(p);
      case 'I':
        this.need(2);
        this.pos += 2;
        return v.getInt16(p, false);
      case 'l':
        this.need(4);
        this.pos += 4;
        return v.getInt32(p, false);
      case 'L':
        return this.int64();
      case 'd':
        this.need(4);
        this.pos += 4;
        return v.getFloat32(p, false);
      case 'D':
        this.need(8);
        this.pos += 8;
        return v.getFloat64(p, false);
      default:
        return this.fail(`marker '${m}' is not a number`);
    }
  }

  /** A length or count: any integer marker, non-negative. */
  length(): number {
    const m = this.marker();
    if (m !== 'i' && m !== 'U' && m !== 'I' && m !== 'l' && m !== 'L')
      this.fail(`expected an integer length marker, got '${m}'`);
    const n = this.number(m);
    if (n < 0) this.fail(`negative length ${n}`);
    return n;
  }

  text(n: number): string {
    this.need(n);
    const s = this.utf8.decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }

  value(m: string, depth: number): UbjValue {
    switch (m) {
      case 'Z':
        return null;
      case 'T':
        return true;
      case 'F':
        return false;
      case 'S':
        return this.text(this.length());
      case 'C':
        return this.text(1);
      case 'H': {
        const s = this.text(this.length());
        const n = Number(s);
        if (s.trim() === '' || Number.isNaN(n)) this.fail(`high-precision number '${s}' is not numeric`);
        return n;
      }
      case '[':
        return this.array(depth + 1);
      case '{':
        return this.object(depth + 1);
      default:
        return this.number(m);
    }
  }

  /** Reads the optional `$type` and `#count` header of a container. */
  header(): { type: string | undefined; count: number | undefined } {
    let type: string | undefined;
    let count: number | undefined;
    if (this.peek() === '$') {
      this.pos++;
      type = this.marker();
      if (this.peek() !== '#') this.fail(`typed container ('$${type}') without a '#' count`);
    }
    if (this.peek() === '#') {
      this.pos++;
      count = this.length();
    }
    return { type, count };
  }

  array(depth: number): UbjValue {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    const { type, count } = this.header();
    if (type !== undefined && count !== undefined) return this.typedArray(type, count, depth);
    const out: UbjValue[] = [];
    if (count !== undefined) {
      // A counted container has no closing marker; guard the count against the bytes left.
      if (count > this.bytes.length - this.pos) this.fail(`array count ${count} exceeds the data`);
      for (let i = 0; i < count; i++) out.push(this.value(this.marker(), depth));
      return out;
    }
    for (;;) {
      const m = this.marker();
      if (m === ']') return out;
      out.push(this.value(m, depth));
    }
  }

  typedArray(type: string, count: number, depth: number): UbjValue {
    const size = MARKER_SIZE[type];
    if (size !== undefined && type !== 'C') {
      this.need(count * size);
      const v = this.view;
      let p = this.pos;
      this.pos += count * size;
      switch (type) {
        case 'd': {
          const a = new Float32Array(count);
          for (let i = 0; i < count; i++, p += 4) a[i] = v.getFloat32(p, false);
          return a;
        }
        case 'D': {
          const a = new Float64Array(count);
          for (let i = 0; i < count; i++, p += 8) a[i] = v.getFloat64(p, false);
          return a;
        }
        case 'l': {
          const a = new Int32Array(count);
          for (let i = 0; i < count; i++, p += 4) a[i] = v.getInt32(p, false);
          return a;
        }
        case 'U':
          return this.bytes.slice(p, p + count);
        case 'i': {
          const a = new Int8Array(count);
          for (let i = 0; i < count; i++, p += 1) a[i] = v.getInt8(p);
          return a;
        }
        case 'I': {
          const a = new Int16Array(count);
          for (let i = 0; i < count; i++, p += 2) a[i] = v.getInt16(p, false);
          return a;
        }
        default: {
          // 'L': int64 values go to float64, exact up to 2^53.
          const a = new Float64Array(count);
          this.pos = p;
          for (let i = 0; i < count; i++) a[i] = this.int64();
          return a;
        }
      }
    }
    // Typed arrays of strings, chars, booleans, nulls or containers: decode value by value.
    if (count > this.bytes.length - this.pos && type !== 'Z' && type !== 'T' && type !== 'F') {
      this.fail(`array count ${count} exceeds the data`);
    }
    if (count > this.bytes.length * 8 + 1024) this.fail(`array count ${count} is implausible`);
    const out: UbjValue[] = [];
    for (let i = 0; i < count; i++) out.push(this.value(type, depth));
    return out;
  }

  object(depth: number): UbjValue {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    const { type, count } = this.header();
    const out: { [key: string]: UbjValue } = Object.create(null);
    const entry = (): void => {
      // Keys carry no 'S' marker: an integer length, then UTF-8 bytes.
      const key = this.text(this.length());
      out[key] = this.value(type ?? this.marker(), depth);
    };
    if (count !== undefined) {
      if (count > this.bytes.length - this.pos) this.fail(`object count ${count} exceeds the data`);
      for (let i = 0; i < count; i++) entry();
      return out;
    }
    for (;;) {
      if (this.peek() === '}') {
        this.pos++;
        return out;
      }
      entry();
    }
  }
}

/**
 * Decodes one UBJSON value from `bytes`. Trailing bytes after the value are an error (a truncated or
 * concatenated file would otherwise load silently).
 * @throws ModelFormatError on malformed data.
 */
export function decodeUbjson(bytes: Uint8Array): UbjValue {
  const r = new Reader(bytes);
  let v: UbjValue;
  try {
    v = r.value(r.marker(), 0);
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    // TextDecoder raises TypeError on invalid UTF-8.
    throw new ModelFormatError(`UBJSON: ${(e as Error).message} at byte ${r.pos}`);
  }
  if (r.pos !== bytes.length) r.fail(`${bytes.length - r.pos} trailing bytes after the top-level value`);
  return v;
}
