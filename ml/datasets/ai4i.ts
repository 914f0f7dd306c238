/**
 * AI4I 2020 (UCI 601) loader and feature builder. The UCI original starts with a UTF-8 BOM and uses CRLF;
 * re-saved copies use LF. Both parse. Feature construction is the only place that decides what the
 * model may see, so the leakage guard (no UDI, Product ID or failure-mode flags) lives here.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Columns the file must have, in any order. */
export const AI4I_COLUMNS = [
  'UDI',
  'Product ID',
  'Type',
  'Air temperature [K]',
  'Process temperature [K]',
  'Rotational speed [rpm]',
  'Torque [Nm]',
  'Tool wear [min]',
  'Machine failure',
  'TWF',
  'HDF',
  'PWF',
  'OSF',
  'RNF',
] as const;

/**
 * Columns that must never reach a model predicting `Machine failure`: row ids, and the failure-mode
 * flags, which are components of the label.
 */
export const AI4I_LEAKING_COLUMNS = ['UDI', 'Product ID', 'TWF', 'HDF', 'PWF', 'OSF', 'RNF'] as const;

export type Ai4iType = 'L' | 'M' | 'H';

export interface Ai4iRow {
  readonly udi: number;
  readonly productId: string;
  readonly type: Ai4iType;
  readonly airTempK: number;
  readonly processTempK: number;
  readonly rpm: number;
  readonly torqueNm: number;
  readonly toolWearMin: number;
  readonly machineFailure: 0 | 1;
  /** Failure-mode flags TWF, HDF, PWF, OSF, RNF (label components: never features). */
  readonly modes: readonly [number, number, number, number, number];
}

export interface Ai4iData {
  readonly rows: readonly Ai4iRow[];
  /** sha256 (hex) of the file bytes as read. */
  readonly sha256: string;
  readonly file: string;
}

/** The text is not a usable AI4I 2020 CSV; `line` is 1-based (the header is line 1). */
export class Ai4iParseError extends Error {
  override name = 'Ai4iParseError';
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`AI4I CSV line ${line}: ${reason}`);
  }
}

const TYPES: Readonly<Record<string, Ai4iType>> = { L: 'L', M: 'M', H: 'H' };

/** Parses the CSV text (BOM and CRLF tolerated). Throws {@link Ai4iParseError} with the line and reason. */
export function parseAi4i(text: string): Ai4iRow[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) throw new Ai4iParseError(1, 'empty file, expected a header');
  const header = lines[0]!.split(',').map((h) => h.trim());
  const col = new Map<string, number>();
  header.forEach((h, i) => col.set(h, i));
  const missing = AI4I_COLUMNS.filter((c) => !col.has(c));
  if (missing.length > 0) throw new Ai4iParseError(1, `missing column(s) ${missing.join(', ')}`);
  const idx = (c: (typeof AI4I_COLUMNS)[number]) => col.get(c)!;
  const rows: Ai4iRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const lineNo = i + 1;
    const cells = lines[i]!.split(',');
    if (cells.length !== header.length) {
      throw new Ai4iParseError(lineNo, `expected ${header.length} fields, got ${cells.length}`);
    }
    const num = (c: (typeof AI4I_COLUMNS)[number]) => {
      const raw = cells[idx(c)]!.trim();
      const v = raw === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(v)) throw new Ai4iParseError(lineNo, `${c} is not a number: "${raw}"`);
      return v;
    };
    const flag = (c: (typeof AI4I_COLUMNS)[number]) => {
      const v = num(c);
      if (v !== 0 && v !== 1) throw new Ai4iParseError(lineNo, `${c} must be 0 or 1, got ${v}`);
      return v;
    };
    const typeRaw = cells[idx('Type')]!.trim();
    const type = TYPES[typeRaw];
    if (!type) throw new Ai4iParseError(lineNo, `Type must be L, M or H, got "${typeRaw}"`);
    rows.push({
      udi: num('UDI'),
      productId: cells[idx('Product ID')]!.trim(),
      type,
      airTempK: num('Air temperature [K]'),
      processTempK: num('Process temperature [K]'),
      rpm: num('Rotational speed [rpm]'),
      torqueNm: num('Torque [Nm]'),
      toolWearMin: num('Tool wear [min]'),
      machineFailure: flag('Machine failure') as 0 | 1,
      modes: [flag('TWF'), flag('HDF'), flag('PWF'), flag('OSF'), flag('RNF')],
    });
  }
  if (rows.length === 0) throw new Ai4iParseError(2, 'no data rows');
  return rows;
}

/** Reads and parses the file, hashing the bytes as read. */
export function loadAi4i(file: string): Ai4iData {
  const bytes = readFileSync(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { rows: parseAi4i(bytes.toString('utf8')), sha256, file };
}

/** Type as an ordinal: the variants are quality grades L < M < H, and trees split ordinals cleanly. */
export const TYPE_ORDINAL: Readonly<Record<Ai4iType, number>> = { L: 0, M: 1, H: 2 };

export const AI4I_BASE_FEATURES = [
  'type',
  'air_temp_k',
  'process_temp_k',
  'rpm',
  'torque_nm',
  'tool_wear_min',
] as const;

/**
 * Physical features from the published generating rules (SOURCE.md): ΔT drives heat-dissipation
 * failures, mechanical power drives power failures, wear × torque drives overstrain failures. They are
 * functions of the six allowed inputs only, so they add no leakage.
 */
export const AI4I_DERIVED_FEATURES = ['delta_t_k', 'power_w', 'wear_torque'] as const;

/** Feature names in column order. */
export function ai4iFeatureNames(derived: boolean): string[] {
  return derived ? [...AI4I_BASE_FEATURES, ...AI4I_DERIVED_FEATURES] : [...AI4I_BASE_FEATURES];
}

/**
 * Row-major float32 features of `rows` in {@link ai4iFeatureNames} order. Reads only Type and the five
 * numeric process columns; the leaking columns are not touched.
 */
export function ai4iFeatures(rows: readonly Ai4iRow[], derived: boolean): Float32Array {
  const f = ai4iFeatureNames(derived).length;
  const x = new Float32Array(rows.length * f);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const o = i * f;
    x[o] = TYPE_ORDINAL[r.type];
    x[o + 1] = r.airTempK;
    x[o + 2] = r.processTempK;
    x[o + 3] = r.rpm;
    x[o + 4] = r.torqueNm;
    x[o + 5] = r.toolWearMin;
    if (derived) {
      x[o + 6] = r.processTempK - r.airTempK;
      x[o + 7] = (r.torqueNm * r.rpm * 2 * Math.PI) / 60;
      x[o + 8] = r.toolWearMin * r.torqueNm;
    }
  }
  return x;
}

/** Labels (`Machine failure`) as float32. */
export function ai4iLabels(rows: readonly Ai4iRow[]): Float32Array {
  return Float32Array.from(rows, (r) => r.machineFailure);
}
