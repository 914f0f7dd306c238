/**
 * The artifact gate (see ../shared/notes/xgboost-model-format.md §6), run on every model before it
 * enters a bundle: the evaluator's loader refuses legacy binary, categorical, multi-output and
 * best-iteration-truncated models with named errors; the gate adds the one rewrite that keeps a file
 * safe for an older serving image: a one-element `base_score` array (xgboost ≥ 3.1) becomes the scalar
 * form, which 1.7 and 3.0 read (they silently ignore the array form and use 0.5).
 */
import { type CompiledModel, loadXgboostModel, ModelFormatError } from '../../lambdas/core/model/index.ts';

export interface GatedArtifact {
  /** The bytes to ship: the input, or the input with `base_score` rewritten. */
  readonly bytes: string | Uint8Array;
  readonly model: CompiledModel;
  readonly format: 'json' | 'ubjson';
  readonly rewroteBaseScore: boolean;
}

const ONE_ELEMENT = /^\[\s*([^,\]\s]+)\s*\]$/;

/** Applies the gate; throws the evaluator's named error when the model must not be served. */
export function gateArtifact(input: string | Uint8Array): GatedArtifact {
  const model = loadXgboostModel(input);
  const format = isUbjson(input) ? 'ubjson' : 'json';
  if (format === 'json') {
    const text = typeof input === 'string' ? input : new TextDecoder().decode(input);
    let rewrote = false;
    const out = text.replace(/("base_score"\s*:\s*")([^"]*)(")/, (all, pre: string, v: string, post: string) => {
      const m = ONE_ELEMENT.exec(v);
      if (!m) return all;
      rewrote = true;
      return `${pre}${m[1]}${post}`;
    });
    return { bytes: rewrote ? out : input, model, format, rewroteBaseScore: rewrote };
  }
  const bytes = input as Uint8Array;
  const rewritten = rewriteUbjsonBaseScore(bytes);
  return { bytes: rewritten ?? bytes, model, format, rewroteBaseScore: rewritten !== null };
}

function isUbjson(input: string | Uint8Array): boolean {
  if (typeof input === 'string') return false;
  let i = 0;
  while (i < input.length && (input[i] === 0x20 || input[i] === 0x0a || input[i] === 0x0d || input[i] === 0x09)) i++;
  if (input[i] !== 0x7b) return false;
  i++;
  while (i < input.length && (input[i] === 0x20 || input[i] === 0x0a || input[i] === 0x0d || input[i] === 0x09)) i++;
  const c = input[i] ?? 0;
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

const INT_SIZE: Readonly<Record<string, number>> = { i: 1, U: 1, I: 2, l: 4, L: 8 };

/** Rewrites a one-element `base_score` array string in UBJSON; null when there is nothing to rewrite. */
function rewriteUbjsonBaseScore(b: Uint8Array): Uint8Array | null {
  const key = new TextEncoder().encode('base_score');
  for (let at = indexOf(b, key, 0); at >= 0; at = indexOf(b, key, at + 1)) {
    let p = at + key.length;
    if (b[p] !== 0x53) continue; // 'S': a string value follows the key
    p++;
    const marker = String.fromCharCode(b[p] ?? 0);
    const size = INT_SIZE[marker];
    if (size === undefined) throw new ModelFormatError('base_score: bad UBJSON string length marker');
    const view = new DataView(b.buffer, b.byteOffset + p + 1, size);
    const len =
      size === 1
        ? marker === 'i'
          ? view.getInt8(0)
          : view.getUint8(0)
        : size === 2
          ? view.getInt16(0)
          : size === 4
            ? view.getInt32(0)
            : Number(view.getBigInt64(0));
    const start = p + 1 + size;
    const value = new TextDecoder().decode(b.subarray(start, start + len));
    const m = ONE_ELEMENT.exec(value);
    if (!m) return null;
    const scalar = new TextEncoder().encode(m[1]!);
    const head = new Uint8Array(9);
    head[0] = 0x4c; // 'L' + int64 length, as xgboost writes lengths
    new DataView(head.buffer).setBigInt64(1, BigInt(scalar.length));
    const out = new Uint8Array(p + head.length + scalar.length + (b.length - start - len));
    out.set(b.subarray(0, p), 0);
    out.set(head, p);
    out.set(scalar, p + head.length);
    out.set(b.subarray(start + len), p + head.length + scalar.length);
    return out;
  }
  return null;
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
