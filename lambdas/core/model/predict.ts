/**
 * Scoring. Margins are bit-identical to libxgboost: float32 inputs and thresholds, `x < split` goes left,
 * NaN takes the default child, and the accumulator is rounded to float32 after every tree.
 *
 * Speed: a step is branch-free, `child = left + ((x >= split) | (isNaN(x) & missingGoesRight))`, and since
 * leaves loop onto themselves every row takes exactly `treeDepth[t]` steps, so the only branches left are
 * loop counters. Four rows walk a tree together so their independent loads overlap.
 */
import { FeatureCountError } from './errors.ts';
import { BLOCK_ROWS, type CompiledModel } from './model.ts';
import { transformMargin } from './objectives.ts';

const fround = Math.fround;

/**
 * One step down the tree from `node` for the row at `x[off..]`. NaN fails `>=`, so a missing value goes right
 * only when the node's flag says so. Written with `+` on booleans to keep V8 from emitting branches.
 */
export function step(
  nodes: Int32Array,
  values: Float32Array,
  node: number,
  x: Float32Array,
  off: number,
): number {
  // Shift, not `* NODE_STRIDE`: an imported binding in the hot loop cost 8x in V8 (measured).
  const rec = node << 2;
  const v = x[off + nodes[rec]!]!;
  return nodes[rec + 2]! + (+(v >= values[rec + 1]!) | (+Number.isNaN(v) & nodes[rec + 3]!));
}

function marginOf(m: CompiledModel, x: Float32Array, off: number): number {
  const { nodes, nodeValues, leafValue, treeStart, treeDepth } = m;
  let acc = m.baseMargin;
  for (let t = 0; t < m.numTrees; t++) {
    let node = treeStart[t]!;
    for (let d = treeDepth[t]!; d > 0; d--) node = step(nodes, nodeValues, node, x, off);
    acc = fround(acc + leafValue[node]!);
  }
  return acc;
}

/** Copies a row into the model's float32 scratch (the same rounding as libxgboost's DMatrix). */
export function loadRow(m: CompiledModel, row: ArrayLike<number>): Float32Array {
  if (row.length !== m.numFeatures) {
    throw new FeatureCountError(`row has ${row.length} values, the model expects ${m.numFeatures}`);
  }
  const x = m.rowScratch;
  for (let i = 0; i < x.length; i++) x[i] = row[i]!;
  return x;
}

/** The raw margin (sum of leaves plus the base margin), a float32 value equal to xgboost's `output_margin=True`. */
export function predictMargin(m: CompiledModel, row: ArrayLike<number>): number {
  return marginOf(m, loadRow(m, row), 0);
}

/** The prediction in output space (sigmoid, exp or identity of the margin), as a float32 value. */
export function predict(m: CompiledModel, row: ArrayLike<number>): number {
  return transformMargin(m.outputTransform, predictMargin(m, row));
}

/** Adds tree `t`'s leaf to the accumulators of rows `0..size` of the block starting at `rows[off]`. */
function blockTree(
  m: CompiledModel,
  t: number,
  rows: Float32Array,
  off0: number,
  size: number,
  acc: Float32Array,
): void {
  const { nodes, nodeValues: values, leafValue } = m;
  const nf = m.numFeatures;
  const root = m.treeStart[t]!;
  const depth = m.treeDepth[t]!;
  let off = off0;
  let i = 0;
  for (; i + 3 < size; i += 4, off += 4 * nf) {
    let a = root;
    let b = root;
    let c = root;
    let e = root;
    for (let d = depth; d > 0; d--) {
      a = step(nodes, values, a, rows, off);
      b = step(nodes, values, b, rows, off + nf);
      c = step(nodes, values, c, rows, off + 2 * nf);
      e = step(nodes, values, e, rows, off + 3 * nf);
    }
    // Storing into the Float32Array rounds each sum to float32, as libxgboost's accumulator does.
    acc[i]! += leafValue[a]!;
    acc[i + 1]! += leafValue[b]!;
    acc[i + 2]! += leafValue[c]!;
    acc[i + 3]! += leafValue[e]!;
  }
  for (; i < size; i++, off += nf) {
    let a = root;
    for (let d = depth; d > 0; d--) a = step(nodes, values, a, rows, off);
    acc[i]! += leafValue[a]!;
  }
}

/**
 * Scores `n` rows stored row-major in `rows` (`n × numFeatures`). Rows go in blocks of {@link BLOCK_ROWS},
 * tree by tree, so each tree stays in cache while a block passes through it.
 * @param out receives one value per row; allocated when omitted.
 * @param outputMargin return margins instead of outputs. @default false
 */
export function predictBatch(
  m: CompiledModel,
  rows: Float32Array,
  n: number,
  out?: Float64Array,
  outputMargin = false,
): Float64Array {
  const nf = m.numFeatures;
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`row count must be a non-negative integer, got ${n}`);
  if (rows.length < n * nf) {
    throw new FeatureCountError(`rows hold ${rows.length} values, ${n} rows × ${nf} features need ${n * nf}`);
  }
  const result = out ?? new Float64Array(n);
  if (result.length < n) throw new RangeError(`out has ${result.length} slots for ${n} rows`);
  const acc = m.blockScratch;
  const tr = outputMargin ? 'identity' : m.outputTransform;
  for (let start = 0; start < n; start += BLOCK_ROWS) {
    const size = Math.min(BLOCK_ROWS, n - start);
    acc.fill(m.baseMargin, 0, size);
    for (let t = 0; t < m.numTrees; t++) blockTree(m, t, rows, start * nf, size, acc);
    for (let i = 0; i < size; i++) result[start + i] = transformMargin(tr, acc[i]!);
  }
  return result;
}
