/**
 * NASA C-MAPSS turbofan files (train_FDxxx.txt, test_FDxxx.txt, RUL_FDxxx.txt) turned into per-engine
 * event lists for `replayFeatures`, so every model sees C-MAPSS through the same feature code the
 * product runs. Format: whitespace-separated, 26 numbers a line (unit, cycle, 3 settings, 21 sensors),
 * no header, trailing spaces allowed.
 */
import { readFileSync } from 'node:fs';
import type { ReplayEvent } from '../features/replay.ts';

/** Catalog names of the 24 value columns (settings then sensors), in file order after unit and cycle. */
export const CMAPSS_VALUE_COLUMNS: readonly string[] = [
  'altitude',
  'mach',
  'tra',
  'T2',
  'T24',
  'T30',
  'T50',
  'P2',
  'P15',
  'P30',
  'Nf',
  'Nc',
  'epr',
  'Ps30',
  'phi',
  'NRf',
  'NRc',
  'BPR',
  'farB',
  'htBleed',
  'Nf_dmd',
  'PCNfR_dmd',
  'W31',
  'W32',
];

/** Columns per line: unit, cycle, then the value columns. */
export const CMAPSS_COLUMN_COUNT = 2 + CMAPSS_VALUE_COLUMNS.length;

/** Synthetic clock: cycle c is at `CMAPSS_EPOCH_MS + c` hours. Only monotonicity matters (cycle clock). */
export const CMAPSS_EPOCH_MS = Date.UTC(2020, 0, 1);
const HOUR_MS = 3_600_000;

/**
 * Event time (`ts`) of a replayed cycle. The drift window counts rows by the hour of their event time
 * whatever the clock, so a replayed engine's 24 h window is 24 cycles: the training matrix's keys use
 * this too, so its own windows are cut as the monitor cuts a replay.
 */
export const cmapssCycleTs = (cycle: number): number => CMAPSS_EPOCH_MS + cycle * HOUR_MS;

/** A C-MAPSS file does not have the expected layout. The message names the file, line and column. */
export class CmapssFormatError extends Error {
  override name = 'CmapssFormatError';
  constructor(
    message: string,
    readonly source: string,
    readonly line: number,
    readonly column?: number,
  ) {
    super(`${source}:${line}${column !== undefined ? `:${column}` : ''}: ${message}`);
  }
}

/** One engine's trajectory: cycles in increasing order, values row-major `cycles.length × 24`. */
export interface CmapssEngine {
  readonly unit: number;
  readonly cycles: readonly number[];
  /** Row-major values in {@link CMAPSS_VALUE_COLUMNS} order. */
  readonly values: Float64Array;
}

/** A parsed trajectory file. */
export interface CmapssFile {
  /** Engines in file order. */
  readonly engines: readonly CmapssEngine[];
  readonly rows: number;
}

/** Column number (1-based) where token `k` of a whitespace-split line starts; for error messages. */
function columnOf(line: string, k: number): number {
  const re = /\S+/g;
  let m: RegExpExecArray | null = re.exec(line);
  for (let i = 0; m && i < k; i++) m = re.exec(line);
  return m ? m.index + 1 : line.length + 1;
}

/**
 * Parses a train or test trajectory file. Blank lines are skipped; each engine's lines must be
 * contiguous with strictly increasing cycles.
 * @param source name used in error messages. @default 'cmapss'
 * @throws CmapssFormatError on a wrong column count, a non-numeric or non-finite value, a unit or cycle
 *   that is not a positive integer, a repeated or decreasing cycle, or an engine split across the file.
 */
export function parseCmapss(text: string, source = 'cmapss'): CmapssFile {
  const lines = text.split(/\r?\n/);
  const engines: CmapssEngine[] = [];
  const seen = new Set<number>();
  let unit = -1;
  let cycles: number[] = [];
  let values: number[] = [];
  let rows = 0;
  const flush = (): void => {
    if (unit >= 0) engines.push({ unit, cycles, values: Float64Array.from(values) });
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const lineNo = i + 1;
    const tokens = line.trim().split(/\s+/);
    if (tokens.length === 1 && tokens[0] === '') continue;
    if (tokens.length !== CMAPSS_COLUMN_COUNT) {
      throw new CmapssFormatError(
        `expected ${CMAPSS_COLUMN_COUNT} columns (unit, cycle, 3 settings, 21 sensors), found ${tokens.length}`,
        source,
        lineNo,
      );
    }
    const nums = new Array<number>(tokens.length);
    for (let k = 0; k < tokens.length; k++) {
      const tok = tokens[k]!;
      const v = Number(tok);
      if (!Number.isFinite(v)) {
        throw new CmapssFormatError(
          `column ${k + 1} is not a finite number: '${tok}'`,
          source,
          lineNo,
          columnOf(line, k),
        );
      }
      nums[k] = v;
    }
    const u = nums[0]!;
    const c = nums[1]!;
    const fail = (message: string, k: number): never => {
      throw new CmapssFormatError(message, source, lineNo, columnOf(line, k));
    };
    if (!Number.isInteger(u) || u < 1) fail(`unit must be a positive integer, got '${tokens[0]}'`, 0);
    if (!Number.isInteger(c) || c < 1) fail(`cycle must be a positive integer, got '${tokens[1]}'`, 1);
    if (u !== unit) {
      if (seen.has(u)) fail(`unit ${u} appears again after other units; an engine's lines must be contiguous`, 0);
      flush();
      seen.add(u);
      unit = u;
      cycles = [];
      values = [];
    } else if (c <= cycles[cycles.length - 1]!) {
      fail(`cycle ${c} of unit ${u} does not follow cycle ${cycles[cycles.length - 1]}; cycles must increase`, 1);
    }
    cycles.push(c);
    for (let k = 2; k < nums.length; k++) values.push(nums[k]!);
    rows++;
  }
  flush();
  if (engines.length === 0) throw new CmapssFormatError('no data lines', source, lines.length);
  return { engines, rows };
}

/**
 * Parses a RUL file: one non-negative integer per engine, in test-file order. Blank lines are skipped.
 * A second column (some copies carry the unit number) is not accepted: the order is the contract.
 * @throws CmapssFormatError on anything else.
 */
export function parseRul(text: string, source = 'rul'): number[] {
  const out: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const tokens = line.trim().split(/\s+/);
    if (tokens.length === 1 && tokens[0] === '') continue;
    if (tokens.length !== 1) {
      const msg = `expected one RUL value, found ${tokens.length} columns`;
      throw new CmapssFormatError(msg, source, i + 1, columnOf(line, 1));
    }
    const v = Number(tokens[0]);
    if (!Number.isInteger(v) || v < 0) {
      const msg = `RUL must be a non-negative integer, got '${tokens[0]}'`;
      throw new CmapssFormatError(msg, source, i + 1, columnOf(line, 0));
    }
    out.push(v);
  }
  if (out.length === 0) throw new CmapssFormatError('no RUL values', source, lines.length);
  return out;
}

/** Reads and parses a trajectory file; errors name the path. */
export function readCmapss(path: string): CmapssFile {
  return parseCmapss(readFileSync(path, 'utf8'), path);
}

/** Reads and parses a RUL file; errors name the path. */
export function readRul(path: string): number[] {
  return parseRul(readFileSync(path, 'utf8'), path);
}

/**
 * The engine's samples as replay events: seq = cycle, ts = a fixed epoch + cycle hours, readings by
 * catalog name (all 24 value columns; the feature engine keeps the ones the catalog featurises).
 * @param lastCycle keep only cycles ≤ this (to see the engine as it was at that cycle). @default all
 */
export function engineEvents(engine: CmapssEngine, lastCycle = Number.POSITIVE_INFINITY): ReplayEvent[] {
  const nv = CMAPSS_VALUE_COLUMNS.length;
  const events: ReplayEvent[] = [];
  for (let r = 0; r < engine.cycles.length; r++) {
    const cycle = engine.cycles[r]!;
    if (cycle > lastCycle) break;
    const readings: Record<string, number> = {};
    for (let k = 0; k < nv; k++) readings[CMAPSS_VALUE_COLUMNS[k]!] = engine.values[r * nv + k]!;
    events.push({ kind: 'sample', ts: cmapssCycleTs(cycle), seq: cycle, readings });
  }
  return events;
}
