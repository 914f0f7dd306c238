/**
 * Loads an XGBoost JSON or UBJSON model (as written by xgboost 1.7.x and 3.x) into a flat, allocation-free
 * layout. The rules follow `docs/model-contract.md`; every unsupported feature is rejected by a named error.
 */
import {
  BestIterationError,
  CategoricalSplitError,
  LegacyBinaryModelError,
  ModelFormatError,
  MultiOutputModelError,
  UnsupportedBoosterError,
  UnsupportedObjectiveError,
} from './errors.ts';
import { type Link, OBJECTIVES, type OutputTransform, probToMargin } from './objectives.ts';
import { decodeUbjson } from './ubjson.ts';

/** Ints per node record in {@link CompiledModel.nodes}. */
export const NODE_STRIDE = 4;
/** Rows scored together per tree in `predictBatch` so one tree stays in L1 cache. */
export const BLOCK_ROWS = 64;

/**
 * A model ready to score. All trees share flat typed arrays; trees are re-laid out breadth-first so that a
 * node's right child is always `left + 1`. The scratch buffers make scoring allocation-free and are the
 * reason a model must not be used by two calls at the same time (JS is single-threaded, so this holds).
 */
export interface CompiledModel {
  readonly numFeatures: number;
  /** Trees scored (after truncation to the best iteration, when asked for). */
  readonly numTrees: number;
  readonly objective: string;
  /** From the model's `feature_names`; absent when the model has none. */
  readonly featureNames?: readonly string[];
  /** `base_score` as stored (output space), rounded to float32. */
  readonly baseScore: number;
  /** `ProbToMargin(base_score)` in float32: the margin every row starts from. */
  readonly baseMargin: number;
  readonly link: Link;
  readonly outputTransform: OutputTransform;
  /** Depth of the deepest leaf (root = 0). */
  readonly maxDepth: number;
  /**
   * Node records, {@link NODE_STRIDE} int32 each: `[feature, float32 bits of the split condition, left child
   * index (right = left + 1), 1 when a missing value goes right else 0]`. A leaf is stored as a node that
   * loops onto itself (feature 0, condition NaN, left = itself, 0), so a row can take exactly
   * `treeDepth[t]` steps in every tree with no leaf test: see `predictBatch`.
   */
  readonly nodes: Int32Array;
  /** Float32 view of {@link nodes}; index `node * NODE_STRIDE + 1` is the split condition (NaN at leaves). */
  readonly nodeValues: Float32Array;
  /** Leaf value per node (`split_conditions` of the leaf); 0 at internal nodes. */
  readonly leafValue: Float32Array;
  /** Depth of the deepest leaf of each tree. */
  readonly treeDepth: Int32Array;
  /** Hessian sum (`sum_hessian`, the "cover") per node. */
  readonly cover: Float32Array;
  /** Cover-weighted mean leaf value under each node (float64), for TreeSHAP. */
  readonly nodeMean: Float64Array;
  /** First node of tree `t` is `treeStart[t]`; length `numTrees + 1`. */
  readonly treeStart: Int32Array;
  /** False when some node has a non-positive cover: TreeSHAP would divide by zero. */
  readonly shapSupported: boolean;
  /** Scratch, internal: one float32 row. */
  readonly rowScratch: Float32Array;
  /** Scratch, internal: float32 accumulators of a row block. */
  readonly blockScratch: Float32Array;
  /** Scratch, internal: TreeSHAP path buffers sized from {@link maxDepth}. */
  readonly shapScratch: ShapScratch;
}

/** Preallocated TreeSHAP path storage: one triangular stack of path elements. */
export interface ShapScratch {
  readonly feature: Int32Array;
  readonly zero: Float64Array;
  readonly one: Float64Array;
  readonly weight: Float64Array;
}

/** Options for {@link loadXgboostModel}. */
export interface LoadOptions {
  /**
   * When `best_ntree_limit`/`best_iteration` is below the tree count, keep only the first trees (what the
   * SageMaker 1.7 container scores) instead of rejecting the model.
   * @default false
   */
  readonly truncateToBestIteration?: boolean;
}

type Obj = { readonly [key: string]: unknown };

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw new ModelFormatError(`${path} must be an object`);
  return v;
}

function get(o: Obj, key: string, path: string): unknown {
  const v = Object.hasOwn(o, key) ? o[key] : undefined;
  if (v === undefined) throw new ModelFormatError(`missing field ${path}.${key}`);
  return v;
}

/** xgboost stores its parameters as strings ("24"); accept numbers too. */
function intParam(v: unknown, path: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : typeof v === 'number' ? v : Number.NaN;
  if (!Number.isInteger(n))
    throw new ModelFormatError(`${path} must be an integer, got ${JSON.stringify(v)}`);
  return n;
}

function optIntParam(o: Obj, key: string, path: string): number | undefined {
  const v = Object.hasOwn(o, key) ? o[key] : undefined;
  return v === undefined ? undefined : intParam(v, `${path}.${key}`);
}

/** A per-node array: JSON array of numbers/booleans, or a typed array from UBJSON. */
type NumArray = ArrayLike<unknown>;

function numArray(o: Obj, key: string, path: string, length: number | undefined): NumArray {
  const v = get(o, key, path);
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) {
    throw new ModelFormatError(`${path}.${key} must be an array`);
  }
  const a = v as NumArray;
  if (length !== undefined && a.length !== length) {
    throw new ModelFormatError(`${path}.${key} has ${a.length} entries, expected ${length}`);
  }
  return a;
}

function optLength(o: Obj, key: string, path: string): number {
  if (!Object.hasOwn(o, key) || o[key] === undefined) return 0;
  return numArray(o, key, path, undefined).length;
}

function num(a: NumArray, i: number, path: string): number {
  const v = a[i];
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new ModelFormatError(`${path}[${i}] must be a number`);
}

/** Parses `base_score`: a scalar string ("5E-1") or a string holding a JSON array ("[5.449E-1]", xgboost ≥ 3.1). */
function parseBaseScore(v: unknown, path: string): number {
  let value: unknown = v;
  if (typeof v === 'string') {
    const s = v.trim();
    if (s.startsWith('[')) {
      let arr: unknown;
      try {
        arr = JSON.parse(s);
      } catch {
        throw new ModelFormatError(`${path} holds malformed array text ${JSON.stringify(v)}`);
      }
      if (!Array.isArray(arr) || arr.length === 0) throw new ModelFormatError(`${path} holds an empty array`);
      if (arr.length > 1) {
        throw new MultiOutputModelError(
          `${path} has ${arr.length} values: multi-target/multi-class models are not supported`,
        );
      }
      value = arr[0];
    } else {
      value = s === '' ? Number.NaN : Number(s);
    }
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ModelFormatError(`${path} must be a finite number, got ${JSON.stringify(v)}`);
  }
  return Math.fround(value);
}

function skipSpace(bytes: Uint8Array, i: number): number {
  let p = i;
  while (
    p < bytes.length &&
    (bytes[p] === 0x20 || bytes[p] === 0x09 || bytes[p] === 0x0a || bytes[p] === 0x0d)
  )
    p++;
  return p;
}

/** Decodes the document: JSON text, or UBJSON detected as xgboost's stream loader does. */
function parseDocument(input: string | Uint8Array): unknown {
  if (typeof input === 'string') {
    if (input.startsWith('binf')) throw legacy();
    try {
      return JSON.parse(input);
    } catch (e) {
      throw new ModelFormatError(`model JSON does not parse: ${(e as Error).message}`);
    }
  }
  if (input.length >= 4 && input[0] === 0x62 && input[1] === 0x69 && input[2] === 0x6e && input[3] === 0x66) {
    throw legacy();
  }
  const p = skipSpace(input, 0);
  if (input[p] !== 0x7b) {
    throw new ModelFormatError('not an XGBoost model: expected JSON or UBJSON starting with "{"');
  }
  const q = skipSpace(input, p + 1);
  const next = input[q];
  // '"' starts a JSON key, '}' an empty JSON object; a letter is a UBJSON length marker (usually 'L').
  if (next === 0x22 || next === 0x7d) {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw new ModelFormatError('model JSON is not valid UTF-8');
    }
    return parseDocument(text);
  }
  if (next !== undefined && ((next >= 0x41 && next <= 0x5a) || (next >= 0x61 && next <= 0x7a))) {
    return decodeUbjson(input.subarray(p));
  }
  throw new ModelFormatError('not an XGBoost model: after "{" expected \'"\' (JSON) or a letter (UBJSON)');
}

function legacy(): LegacyBinaryModelError {
  return new LegacyBinaryModelError(
    'legacy binary XGBoost model ("binf"): re-save it as JSON or UBJSON (xgboost ≥ 1.6 save_model("m.json")); ' +
      'SageMaker image 1.7-1 writes this format, use image 3.0-5',
  );
}

/** Reads the tree limit implied by `best_ntree_limit`/`best_iteration`, if any. */
function bestTreeLimit(learner: Obj, numParallelTree: number): number | undefined {
  const attrs = Object.hasOwn(learner, 'attributes') ? learner.attributes : undefined;
  if (!isObj(attrs)) return undefined;
  let limit: number | undefined;
  const ntree = optIntParam(attrs, 'best_ntree_limit', 'learner.attributes');
  if (ntree !== undefined) limit = ntree;
  const iter = optIntParam(attrs, 'best_iteration', 'learner.attributes');
  if (iter !== undefined) {
    const fromIter = (iter + 1) * numParallelTree;
    limit = limit === undefined ? fromIter : Math.min(limit, fromIter);
  }
  return limit;
}

interface RawTree {
  readonly left: NumArray;
  readonly right: NumArray;
  readonly feature: NumArray;
  readonly cond: NumArray;
  readonly defaultLeft: NumArray;
  readonly hess: NumArray;
  readonly n: number;
  readonly path: string;
}

function readTree(v: unknown, path: string): RawTree {
  const t = obj(v, path);
  const left = numArray(t, 'left_children', path, undefined);
  const n = left.length;
  if (n === 0) throw new ModelFormatError(`${path} has no nodes`);
  const tp = Object.hasOwn(t, 'tree_param') ? obj(t.tree_param, `${path}.tree_param`) : undefined;
  if (tp !== undefined) {
    const numNodes = optIntParam(tp, 'num_nodes', `${path}.tree_param`);
    if (numNodes !== undefined && numNodes !== n) {
      throw new ModelFormatError(`${path}.tree_param.num_nodes is ${numNodes} but left_children has ${n}`);
    }
    const leafVec = optIntParam(tp, 'size_leaf_vector', `${path}.tree_param`);
    if (leafVec !== undefined && leafVec > 1) {
      throw new MultiOutputModelError(`${path} has vector leaves (size_leaf_vector ${leafVec})`);
    }
  }
  if (optLength(t, 'categories', path) > 0 || optLength(t, 'categories_nodes', path) > 0) {
    throw new CategoricalSplitError(`${path} has categorical splits (non-empty categories)`);
  }
  if (Object.hasOwn(t, 'split_type') && t.split_type !== undefined) {
    const st = numArray(t, 'split_type', path, n);
    for (let i = 0; i < n; i++) {
      if (num(st, i, `${path}.split_type`) !== 0) {
        throw new CategoricalSplitError(
          `${path} node ${i} is a categorical split (split_type ${String(st[i])})`,
        );
      }
    }
  }
  const tree: RawTree = {
    left,
    right: numArray(t, 'right_children', path, n),
    feature: numArray(t, 'split_indices', path, n),
    cond: numArray(t, 'split_conditions', path, n),
    defaultLeft: numArray(t, 'default_left', path, n),
    hess: numArray(t, 'sum_hessian', path, n),
    n,
    path,
  };
  return tree;
}

/**
 * Parses and compiles an XGBoost model.
 * @param bytes JSON text, or the raw bytes of a JSON or UBJSON file (format detected from the first bytes).
 * @throws ModelFormatError (and LegacyBinaryModelError) for malformed input; UnsupportedModelError subclasses
 *   for categorical splits, multi-output models, unknown objectives, non-gbtree boosters, and a best
 *   iteration below the tree count (unless `truncateToBestIteration`).
 */
export function loadXgboostModel(bytes: string | Uint8Array, opts: LoadOptions = {}): CompiledModel {
  const root = obj(parseDocument(bytes), 'model');
  const learner = obj(get(root, 'learner', 'model'), 'learner');
  const lmp = obj(get(learner, 'learner_model_param', 'learner'), 'learner.learner_model_param');
  const numFeatures = intParam(get(lmp, 'num_feature', 'learner.learner_model_param'), 'num_feature');
  if (numFeatures < 0) throw new ModelFormatError('learner_model_param.num_feature must be ≥ 0');
  const numClass = optIntParam(lmp, 'num_class', 'learner.learner_model_param') ?? 0;
  if (numClass > 1)
    throw new MultiOutputModelError(`multi-class model (num_class ${numClass}) is not supported`);
  const numTarget = optIntParam(lmp, 'num_target', 'learner.learner_model_param') ?? 1;
  if (numTarget > 1)
    throw new MultiOutputModelError(`multi-target model (num_target ${numTarget}) is not supported`);

  const objectiveObj = obj(get(learner, 'objective', 'learner'), 'learner.objective');
  const objective = get(objectiveObj, 'name', 'learner.objective');
  if (typeof objective !== 'string') throw new ModelFormatError('learner.objective.name must be a string');
  const spec = OBJECTIVES[objective];
  if (spec === undefined) {
    if (objective.startsWith('multi:')) {
      throw new MultiOutputModelError(`objective ${objective} is multi-class, which is not supported`);
    }
    throw new UnsupportedObjectiveError(
      `objective ${objective} is not supported (supported: ${Object.keys(OBJECTIVES).join(', ')})`,
    );
  }
  const baseScore = parseBaseScore(get(lmp, 'base_score', 'learner.learner_model_param'), 'base_score');
  if (spec.link === 'logit' && !(baseScore > 0 && baseScore < 1)) {
    throw new ModelFormatError(`base_score ${baseScore} must lie in (0, 1) for ${objective}`);
  }
  if (spec.link === 'log' && !(baseScore > 0)) {
    throw new ModelFormatError(`base_score ${baseScore} must be > 0 for ${objective}`);
  }

  const gb = obj(get(learner, 'gradient_booster', 'learner'), 'learner.gradient_booster');
  const boosterName = get(gb, 'name', 'learner.gradient_booster');
  if (boosterName !== 'gbtree') {
    throw new UnsupportedBoosterError(`booster ${String(boosterName)} is not supported (only gbtree)`);
  }
  const gbModel = obj(get(gb, 'model', 'learner.gradient_booster'), 'gradient_booster.model');
  const gbParam = Object.hasOwn(gbModel, 'gbtree_model_param')
    ? obj(gbModel.gbtree_model_param, 'gbtree_model_param')
    : {};
  const leafVec = optIntParam(gbParam, 'size_leaf_vector', 'gbtree_model_param') ?? 0;
  if (leafVec > 1)
    throw new MultiOutputModelError(`vector-leaf model (size_leaf_vector ${leafVec}) is not supported`);
  const numParallelTree = optIntParam(gbParam, 'num_parallel_tree', 'gbtree_model_param') ?? 1;
  const trees = get(gbModel, 'trees', 'gradient_booster.model');
  if (!Array.isArray(trees)) throw new ModelFormatError('gradient_booster.model.trees must be an array');
  const declared = optIntParam(gbParam, 'num_trees', 'gbtree_model_param');
  if (declared !== undefined && declared !== trees.length) {
    throw new ModelFormatError(
      `gbtree_model_param.num_trees is ${declared} but ${trees.length} trees are stored`,
    );
  }
  if (Object.hasOwn(gbModel, 'tree_info')) {
    const info = numArray(gbModel, 'tree_info', 'gradient_booster.model', trees.length);
    for (let i = 0; i < info.length; i++) {
      if (num(info, i, 'tree_info') !== 0) {
        throw new MultiOutputModelError(
          `tree ${i} belongs to output group ${String(info[i])}: multi-output model`,
        );
      }
    }
  }

  let numTrees = trees.length;
  const limit = bestTreeLimit(learner, numParallelTree);
  if (limit !== undefined && limit < numTrees) {
    if (!opts.truncateToBestIteration) {
      throw new BestIterationError(
        `model stores ${numTrees} trees but its best iteration uses ${limit}; truncate it before saving ` +
          '(or load with truncateToBestIteration)',
        limit,
        numTrees,
      );
    }
    numTrees = Math.max(0, limit);
  }

  const featureNames = readFeatureNames(learner, numFeatures);
  const raw: RawTree[] = [];
  for (let t = 0; t < numTrees; t++) raw.push(readTree(trees[t], `trees[${t}]`));
  return compile(raw, {
    numFeatures,
    objective,
    featureNames,
    baseScore,
    link: spec.link,
    outputTransform: spec.transform,
  });
}

function readFeatureNames(learner: Obj, numFeatures: number): readonly string[] | undefined {
  const v = Object.hasOwn(learner, 'feature_names') ? learner.feature_names : undefined;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new ModelFormatError('learner.feature_names must be an array');
  if (v.length === 0) return undefined;
  if (v.length !== numFeatures) {
    throw new ModelFormatError(
      `learner.feature_names has ${v.length} names but num_feature is ${numFeatures}`,
    );
  }
  return Object.freeze(
    v.map((name, i) => {
      if (typeof name !== 'string')
        throw new ModelFormatError(`learner.feature_names[${i}] must be a string`);
      return name;
    }),
  );
}

interface Header {
  readonly numFeatures: number;
  readonly objective: string;
  readonly featureNames: readonly string[] | undefined;
  readonly baseScore: number;
  readonly link: Link;
  readonly outputTransform: OutputTransform;
}

function markChild(t: RawTree, parent: number, c: number, seen: Uint8Array): void {
  if (!Number.isInteger(c) || c < 0 || c >= t.n) {
    throw new ModelFormatError(`${t.path} node ${parent} has child ${c} outside 0..${t.n - 1}`);
  }
  if (seen[c] === 1) throw new ModelFormatError(`${t.path} node ${c} is reached twice (not a tree)`);
  seen[c] = 1;
}

/** Lays trees out breadth-first in shared arrays, validating structure (ranges, cycles, features). */
function compile(trees: readonly RawTree[], h: Header): CompiledModel {
  let total = 0;
  for (const t of trees) total += t.n;
  const buffer = new ArrayBuffer(Math.max(1, total) * NODE_STRIDE * 4);
  const nodes = new Int32Array(buffer);
  const nodeValues = new Float32Array(buffer);
  const cover = new Float32Array(Math.max(1, total));
  const leafValue = new Float32Array(Math.max(1, total));
  const treeDepth = new Int32Array(trees.length);
  const nodeMean = new Float64Array(Math.max(1, total));
  const treeStart = new Int32Array(trees.length + 1);
  let next = 0;
  let shapSupported = true;
  // Reused per tree: original node id and depth of each queued node, and visit marks.
  let queue = new Int32Array(16);
  let depth = new Int32Array(16);
  let seen = new Uint8Array(16);

  for (let ti = 0; ti < trees.length; ti++) {
    const t = trees[ti]!;
    if (queue.length < t.n) {
      queue = new Int32Array(t.n);
      depth = new Int32Array(t.n);
      seen = new Uint8Array(t.n);
    } else {
      seen.fill(0, 0, t.n);
    }
    const base = next;
    treeStart[ti] = base;
    queue[0] = 0;
    depth[0] = 0;
    seen[0] = 1;
    next++;
    // The BFS queue index doubles as the new node id minus base: children are appended in pairs.
    for (let qi = 0; base + qi < next; qi++) {
      const o = queue[qi]!;
      const g = base + qi;
      const d = depth[qi]!;
      const rec = g * NODE_STRIDE;
      const value = num(t.cond, o, `${t.path}.split_conditions`);
      const hess = num(t.hess, o, `${t.path}.sum_hessian`);
      if (!(hess > 0) || !Number.isFinite(hess)) shapSupported = false;
      cover[g] = hess;
      const l = num(t.left, o, `${t.path}.left_children`);
      if (l === -1) {
        if (!Number.isFinite(value))
          throw new ModelFormatError(`${t.path} leaf ${o} has non-finite value ${value}`);
        nodes[rec] = 0;
        nodeValues[rec + 1] = Number.NaN;
        nodes[rec + 2] = g;
        nodes[rec + 3] = 0;
        leafValue[g] = value;
        if (d > treeDepth[ti]!) treeDepth[ti] = d;
        continue;
      }
      const r = num(t.right, o, `${t.path}.right_children`);
      markChild(t, o, l, seen);
      markChild(t, o, r, seen);
      const feat = num(t.feature, o, `${t.path}.split_indices`);
      if (!Number.isInteger(feat) || feat < 0 || feat >= h.numFeatures) {
        throw new ModelFormatError(
          `${t.path} node ${o} splits on feature ${feat}, outside 0..${h.numFeatures - 1}`,
        );
      }
      if (Number.isNaN(value)) throw new ModelFormatError(`${t.path} node ${o} has a NaN split condition`);
      const gl = next;
      next += 2;
      queue[gl - base] = l;
      queue[gl - base + 1] = r;
      depth[gl - base] = d + 1;
      depth[gl - base + 1] = d + 1;
      nodes[rec] = feat;
      nodeValues[rec + 1] = value;
      nodes[rec + 2] = gl;
      nodes[rec + 3] = num(t.defaultLeft, o, `${t.path}.default_left`) !== 0 ? 0 : 1;
    }
    // Children have larger ids than parents, so a reverse sweep sees children first.
    for (let g = next - 1; g >= base; g--) {
      const rec = g * NODE_STRIDE;
      const gl = nodes[rec + 2]!;
      if (gl === g) {
        nodeMean[g] = leafValue[g]!;
      } else {
        nodeMean[g] = (nodeMean[gl]! * cover[gl]! + nodeMean[gl + 1]! * cover[gl + 1]!) / cover[g]!;
      }
    }
  }
  treeStart[trees.length] = next;
  const maxDepth = treeDepth.reduce((a, b) => Math.max(a, b), 0);

  const pathLen = ((maxDepth + 2) * (maxDepth + 3)) / 2;
  const model: CompiledModel = {
    numFeatures: h.numFeatures,
    numTrees: trees.length,
    objective: h.objective,
    ...(h.featureNames === undefined ? {} : { featureNames: h.featureNames }),
    baseScore: h.baseScore,
    baseMargin: probToMargin(h.link, h.baseScore),
    link: h.link,
    outputTransform: h.outputTransform,
    maxDepth,
    nodes,
    nodeValues,
    leafValue,
    treeDepth,
    cover,
    nodeMean,
    treeStart,
    shapSupported,
    rowScratch: new Float32Array(h.numFeatures),
    blockScratch: new Float32Array(BLOCK_ROWS),
    shapScratch: {
      feature: new Int32Array(pathLen),
      zero: new Float64Array(pathLen),
      one: new Float64Array(pathLen),
      weight: new Float64Array(pathLen),
    },
  };
  return model;
}
