/** Hand-built XGBoost models for unit tests: a JSON writer and an xgboost-style UBJSON writer. */

/** A node of a hand-written tree: a leaf value, or a split `x[f] < cond` with children. */
export type TreeSpec =
  | { readonly leaf: number; readonly cover?: number }
  | {
      readonly f: number;
      readonly cond: number;
      readonly defaultLeft?: boolean;
      readonly left: TreeSpec;
      readonly right: TreeSpec;
      readonly cover?: number;
    };

export interface ModelSpec {
  readonly trees: readonly TreeSpec[];
  readonly numFeatures: number;
  readonly objective?: string;
  readonly baseScore?: string;
  readonly attributes?: Record<string, string>;
  readonly featureNames?: readonly string[];
  readonly numClass?: string;
  readonly numTarget?: string;
  readonly booster?: string;
}

interface FlatTree {
  left: number[];
  right: number[];
  feature: number[];
  cond: number[];
  defaultLeft: number[];
  hess: number[];
  parents: number[];
}

/** Cover of a spec node: given, or the sum of its children's (leaves default to 1). */
function coverOf(t: TreeSpec): number {
  if (t.cover !== undefined) return t.cover;
  return 'leaf' in t ? 1 : coverOf(t.left) + coverOf(t.right);
}

/** Flattens in xgboost's allocation order: children of a node are allocated as a consecutive pair. */
export function flatten(spec: TreeSpec): FlatTree {
  const out: FlatTree = {
    left: [],
    right: [],
    feature: [],
    cond: [],
    defaultLeft: [],
    hess: [],
    parents: [],
  };
  const add = (t: TreeSpec, parent: number): number => {
    const id = out.left.length;
    out.left.push(-1);
    out.right.push(-1);
    out.feature.push(0);
    out.cond.push('leaf' in t ? t.leaf : t.cond);
    out.defaultLeft.push('leaf' in t ? 0 : t.defaultLeft ? 1 : 0);
    out.hess.push(coverOf(t));
    out.parents.push(parent);
    return id;
  };
  const queue: Array<[TreeSpec, number]> = [[spec, add(spec, 2147483647)]];
  while (queue.length > 0) {
    const [t, id] = queue.shift()!;
    if ('leaf' in t) continue;
    const l = add(t.left, id);
    const r = add(t.right, id);
    out.left[id] = l;
    out.right[id] = r;
    out.feature[id] = t.f;
    queue.push([t.left, l], [t.right, r]);
  }
  return out;
}

/** float32 text that always has a '.' or exponent, as xgboost expects. */
export function f32(x: number): string {
  const s = Math.fround(x).toPrecision(9);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** A model as a plain object; float arrays are pre-formatted strings so JSON text keeps float literals. */
export function modelObject(
  spec: ModelSpec,
  treeOverrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const trees = spec.trees.map((t, id) => {
    const ft = flatten(t);
    const n = ft.left.length;
    return {
      base_weights: ft.cond,
      categories: [],
      categories_nodes: [],
      categories_segments: [],
      categories_sizes: [],
      default_left: ft.defaultLeft,
      id,
      left_children: ft.left,
      loss_changes: ft.cond.map(() => 0),
      parents: ft.parents,
      right_children: ft.right,
      split_conditions: ft.cond,
      split_indices: ft.feature,
      split_type: ft.cond.map(() => 0),
      sum_hessian: ft.hess,
      tree_param: {
        num_deleted: '0',
        num_feature: String(spec.numFeatures),
        num_nodes: String(n),
        size_leaf_vector: '0',
      },
      ...treeOverrides,
    };
  });
  const objective = spec.objective ?? 'reg:squarederror';
  return {
    learner: {
      attributes: spec.attributes ?? {},
      feature_names: spec.featureNames ?? [],
      feature_types: [],
      gradient_booster: {
        model: {
          gbtree_model_param: {
            num_parallel_tree: '1',
            num_trees: String(trees.length),
            size_leaf_vector: '0',
          },
          tree_info: trees.map(() => 0),
          trees,
        },
        name: spec.booster ?? 'gbtree',
      },
      learner_model_param: {
        base_score: spec.baseScore ?? '5E-1',
        boost_from_average: '1',
        num_class: spec.numClass ?? '0',
        num_feature: String(spec.numFeatures),
        num_target: spec.numTarget ?? '1',
      },
      objective: { name: objective, reg_loss_param: { scale_pos_weight: '1' } },
    },
    version: [1, 7, 4],
  };
}

const FLOAT_KEYS = new Set(['split_conditions', 'base_weights', 'loss_changes', 'sum_hessian']);

/** JSON text with float arrays written as xgboost does (never `4` for 4.0). */
export function modelJson(spec: ModelSpec, treeOverrides: Record<string, unknown> = {}): string {
  return JSON.stringify(modelObject(spec, treeOverrides), (key, value) =>
    FLOAT_KEYS.has(key) && Array.isArray(value) ? `@@[${(value as number[]).map(f32).join(',')}]@@` : value,
  ).replace(/"@@(\[[^\]]*\])@@"/g, '$1');
}

/** Bytes builder for UBJSON in xgboost's dialect (big-endian, keys without 'S', typed arrays). */
export class Ubj {
  private readonly parts: number[] = [];
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
  raw(...b: number[]): this {
    this.parts.push(...b);
    return this;
  }
  ch(s: string): this {
    for (const c of s) this.parts.push(c.charCodeAt(0));
    return this;
  }
  be(kind: 'i8' | 'u8' | 'i16' | 'i32' | 'i64' | 'f32' | 'f64', v: number): this {
    const size = { i8: 1, u8: 1, i16: 2, i32: 4, i64: 8, f32: 4, f64: 8 }[kind];
    const dv = new DataView(new ArrayBuffer(size));
    if (kind === 'i8') dv.setInt8(0, v);
    else if (kind === 'u8') dv.setUint8(0, v);
    else if (kind === 'i16') dv.setInt16(0, v);
    else if (kind === 'i32') dv.setInt32(0, v);
    else if (kind === 'i64') dv.setBigInt64(0, BigInt(v));
    else if (kind === 'f32') dv.setFloat32(0, v);
    else dv.setFloat64(0, v);
    for (let i = 0; i < size; i++) this.parts.push(dv.getUint8(i));
    return this;
  }
  /** A key or string body: `L` int64 length then UTF-8 bytes. */
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.ch('L').be('i64', b.length);
    this.parts.push(...b);
    return this;
  }
}

const TYPED: Record<string, ['d' | 'l' | 'U' | 'L', 'f32' | 'i32' | 'u8' | 'i64']> = {
  split_conditions: ['d', 'f32'],
  base_weights: ['d', 'f32'],
  loss_changes: ['d', 'f32'],
  sum_hessian: ['d', 'f32'],
  left_children: ['l', 'i32'],
  right_children: ['l', 'i32'],
  parents: ['l', 'i32'],
  split_indices: ['l', 'i32'],
  categories: ['l', 'i32'],
  categories_nodes: ['l', 'i32'],
  default_left: ['U', 'u8'],
  split_type: ['U', 'u8'],
  categories_segments: ['L', 'i64'],
  categories_sizes: ['L', 'i64'],
};

/** Encodes a model object the way xgboost 1.7/3.x writes UBJSON. */
export function toXgboostUbjson(value: unknown): Uint8Array {
  const w = new Ubj();
  const enc = (v: unknown, key: string | undefined): void => {
    if (key !== undefined && TYPED[key] !== undefined && Array.isArray(v)) {
      const [marker, kind] = TYPED[key];
      w.ch('[$').ch(marker).ch('#L').be('i64', v.length);
      for (const x of v as number[]) w.be(kind, x);
    } else if (Array.isArray(v)) {
      w.ch('[#L').be('i64', v.length);
      for (const x of v) enc(x, undefined);
    } else if (typeof v === 'string') {
      w.ch('S').str(v);
    } else if (typeof v === 'number') {
      if (Number.isInteger(v)) w.ch('l').be('i32', v);
      else w.ch('d').be('f32', v);
    } else if (typeof v === 'boolean') {
      w.ch(v ? 'T' : 'F');
    } else if (v !== null && typeof v === 'object') {
      w.ch('{');
      for (const [k, x] of Object.entries(v)) {
        w.str(k);
        enc(x, k);
      }
      w.ch('}');
    } else {
      w.ch('Z');
    }
  };
  enc(value, undefined);
  return w.bytes();
}
