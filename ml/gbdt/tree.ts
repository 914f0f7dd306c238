import type { BinnedCuts, SlotMatrix } from './binning.ts';
import type { ResolvedParams } from './params.ts';

const f32 = Math.fround;
/** xgboost's kRtEps: a split must reduce the loss by more than this. */
const RT_EPS = 1e-6;
/** Children lighter than this carry no information, whatever minChildWeight says. */
const MIN_HESS = 1e-12;

/**
 * One regression tree in xgboost's array layout. A node is a leaf iff `left[node] === -1`; for a leaf,
 * `cond[node]` is the leaf value (already multiplied by eta), otherwise the float32 split threshold
 * (`x < cond` goes left, NaN follows `defaultLeft`).
 */
export interface TrainedTree {
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly parent: Int32Array;
  readonly feature: Int32Array;
  readonly cond: Float32Array;
  readonly defaultLeft: Uint8Array;
  /** Loss reduction of each split (0 for leaves). */
  readonly lossChange: Float32Array;
  /** Hessian sum (cover) of each node, as TreeSHAP needs. */
  readonly sumHessian: Float32Array;
  /** Node weight × eta; for leaves equal to the leaf value. */
  readonly baseWeight: Float32Array;
}

/** A grown tree plus what training needs to route binned rows without re-reading floats. */
export interface GrownTree {
  readonly tree: TrainedTree;
  /** Highest global slot that goes left at each internal node. */
  readonly splitSlot: Int32Array;
  /** Missing slot of the split feature at each internal node. */
  readonly missSlot: Int32Array;
  /** Leaves and the ranges of `rows` (after growth) that landed in them. */
  readonly leafNodes: number[];
  readonly leafStart: number[];
  readonly leafEnd: number[];
}

interface Pending {
  nid: number;
  start: number;
  end: number;
  g: number;
  h: number;
  hist: Float64Array | null;
}

interface Best {
  gain: number;
  feature: number;
  bin: number;
  defaultLeft: boolean;
  gl: number;
  hl: number;
}

/**
 * Depth-wise histogram tree grower. One instance serves every round; histogram buffers are pooled
 * because a tree needs only a few levels' worth at a time.
 */
export class TreeGrower {
  private readonly pool: Float64Array[] = [];
  private readonly scratch: Uint32Array;
  private readonly lambda: number;
  private readonly alpha: number;
  private readonly mds: number;
  private readonly minH: number;

  constructor(
    private readonly bins: SlotMatrix,
    private readonly f: number,
    private readonly bc: BinnedCuts,
    private readonly p: ResolvedParams,
    n: number,
  ) {
    this.scratch = new Uint32Array(n);
    this.lambda = p.lambda;
    this.alpha = p.alpha;
    this.mds = p.maxDeltaStep;
    this.minH = Math.max(p.minChildWeight, MIN_HESS);
  }

  /** Grows one tree on rows[0, m); `rows` is reordered so each leaf owns a contiguous range. */
  grow(grad: Float32Array, hess: Float32Array, rows: Uint32Array, m: number, feats: Int32Array): GrownTree {
    const { p, bc } = this;
    const left: number[] = [];
    const right: number[] = [];
    const parent: number[] = [];
    const feature: number[] = [];
    const cond: number[] = [];
    const defLeft: number[] = [];
    const loss: number[] = [];
    const sumH: number[] = [];
    const baseW: number[] = [];
    const splitSlot: number[] = [];
    const missSlot: number[] = [];
    const leafNodes: number[] = [];
    const leafStart: number[] = [];
    const leafEnd: number[] = [];
    const eta = f32(p.eta);
    const addNode = (par: number, h: number, g: number): number => {
      left.push(-1);
      right.push(-1);
      parent.push(par);
      feature.push(0);
      const w = f32(f32(this.weight(g, h)) * eta);
      cond.push(w);
      defLeft.push(0);
      loss.push(0);
      sumH.push(h);
      baseW.push(w);
      splitSlot.push(0);
      missSlot.push(0);
      return left.length - 1;
    };

    let g0 = 0;
    let h0 = 0;
    for (let k = 0; k < m; k++) {
      g0 += grad[rows[k]!]!;
      h0 += hess[rows[k]!]!;
    }
    const root: Pending = { nid: addNode(2147483647, h0, g0), start: 0, end: m, g: g0, h: h0, hist: null };
    if (p.maxDepth > 0 && m > 1) {
      root.hist = this.acquire();
      this.buildHist(root.hist, grad, hess, rows, 0, m, feats);
    }
    let level: Pending[] = [root];
    for (let depth = 0; level.length > 0; depth++) {
      const next: Pending[] = [];
      for (const node of level) {
        const best = node.hist ? this.bestSplit(node.hist, node.g, node.h, feats) : null;
        if (best === null || best.gain <= RT_EPS || best.gain < p.gamma) {
          if (node.hist) this.release(node.hist);
          leafNodes.push(node.nid);
          leafStart.push(node.start);
          leafEnd.push(node.end);
          continue;
        }
        const off = bc.offsets[best.feature]!;
        const cuts = bc.cuts[best.feature]!;
        const sSlot = off + best.bin;
        const mSlot = off + cuts.length + 1;
        const mid = this.partition(rows, node.start, node.end, best.feature, sSlot, mSlot, best.defaultLeft);
        const gr = node.g - best.gl;
        const hr = node.h - best.hl;
        const lid = addNode(node.nid, best.hl, best.gl);
        const rid = addNode(node.nid, hr, gr);
        const nid = node.nid;
        left[nid] = lid;
        right[nid] = rid;
        feature[nid] = best.feature;
        cond[nid] = cuts[best.bin]!;
        defLeft[nid] = best.defaultLeft ? 1 : 0;
        loss[nid] = best.gain;
        splitSlot[nid] = sSlot;
        missSlot[nid] = mSlot;
        const l: Pending = { nid: lid, start: node.start, end: mid, g: best.gl, h: best.hl, hist: null };
        const r: Pending = { nid: rid, start: mid, end: node.end, g: gr, h: hr, hist: null };
        this.childHists(node.hist!, l, r, depth + 1 < p.maxDepth, grad, hess, rows, feats);
        next.push(l, r);
      }
      level = next;
    }
    const nn = left.length;
    return {
      tree: {
        left: Int32Array.from(left),
        right: Int32Array.from(right),
        parent: Int32Array.from(parent),
        feature: Int32Array.from(feature),
        cond: Float32Array.from(cond),
        defaultLeft: Uint8Array.from(defLeft),
        lossChange: Float32Array.from(loss),
        sumHessian: Float32Array.from(sumH),
        baseWeight: Float32Array.from(baseW),
      },
      splitSlot: Int32Array.from(splitSlot.slice(0, nn)),
      missSlot: Int32Array.from(missSlot.slice(0, nn)),
      leafNodes,
      leafStart,
      leafEnd,
    };
  }

  /**
   * Histograms of both children from the parent's: build the smaller child, get the larger by
   * subtraction in the parent's buffer.
   */
  private childHists(
    parentHist: Float64Array,
    l: Pending,
    r: Pending,
    canSplit: boolean,
    grad: Float32Array,
    hess: Float32Array,
    rows: Uint32Array,
    feats: Int32Array,
  ): void {
    const need = (c: Pending): boolean => canSplit && c.end - c.start > 1 && c.h >= 2 * this.minH;
    const needL = need(l);
    const needR = need(r);
    if (!needL && !needR) {
      this.release(parentHist);
      return;
    }
    const [small, large, needLarge] = l.end - l.start <= r.end - r.start ? [l, r, needR] : [r, l, needL];
    const sh = this.acquire();
    this.buildHist(sh, grad, hess, rows, small.start, small.end, feats);
    if (needLarge) {
      for (let i = 0; i < sh.length; i++) parentHist[i]! -= sh[i]!;
      large.hist = parentHist;
    } else {
      this.release(parentHist);
    }
    if (small === l ? needL : needR) small.hist = sh;
    else this.release(sh);
  }

  private acquire(): Float64Array {
    return this.pool.pop() ?? new Float64Array(this.bc.totalSlots * 2);
  }

  private release(h: Float64Array): void {
    this.pool.push(h);
  }

  /** Interleaved (grad, hess) sums per global slot over rows[start, end). */
  private buildHist(
    hist: Float64Array,
    grad: Float32Array,
    hess: Float32Array,
    rows: Uint32Array,
    start: number,
    end: number,
    feats: Int32Array,
  ): void {
    hist.fill(0);
    const { bins, f } = this;
    if (feats.length === f) {
      for (let k = start; k < end; k++) {
        const r = rows[k]!;
        const g = grad[r]!;
        const h = hess[r]!;
        const base = r * f;
        for (let j = 0; j < f; j++) {
          const s = bins[base + j]! << 1;
          hist[s]! += g;
          hist[s + 1]! += h;
        }
      }
      return;
    }
    const nf = feats.length;
    for (let k = start; k < end; k++) {
      const r = rows[k]!;
      const g = grad[r]!;
      const h = hess[r]!;
      const base = r * f;
      for (let q = 0; q < nf; q++) {
        const s = bins[base + feats[q]!]! << 1;
        hist[s]! += g;
        hist[s + 1]! += h;
      }
    }
  }

  /** Stable partition of rows[start, end) by the split; returns the first right index. */
  private partition(
    rows: Uint32Array,
    start: number,
    end: number,
    feat: number,
    sSlot: number,
    mSlot: number,
    defaultLeft: boolean,
  ): number {
    const { bins, f, scratch } = this;
    let l = start;
    let r = 0;
    for (let k = start; k < end; k++) {
      const row = rows[k]!;
      const s = bins[row * f + feat]!;
      if (s === mSlot ? defaultLeft : s <= sSlot) rows[l++] = row;
      else scratch[r++] = row;
    }
    rows.set(scratch.subarray(0, r), l);
    return l;
  }

  /** Leaf weight: −T_α(G)/(H+λ), clipped to ±max_delta_step; 0 below min_child_weight. */
  weight(g: number, h: number): number {
    if (h < this.p.minChildWeight || h <= 0) return 0;
    const a = this.alpha;
    const tg = g > a ? g - a : g < -a ? g + a : 0;
    let w = -tg / (h + this.lambda);
    if (this.mds !== 0 && Math.abs(w) > this.mds) w = Math.sign(w) * this.mds;
    return w;
  }

  /** Twice the loss reduction of the best leaf weight: G²/(H+λ) in the plain case. */
  gain(g: number, h: number): number {
    if (h < this.p.minChildWeight || h <= 0) return 0;
    if (this.mds === 0) {
      const a = this.alpha;
      const tg = a === 0 ? g : g > a ? g - a : g < -a ? g + a : 0;
      return (tg * tg) / (h + this.lambda);
    }
    const w = this.weight(g, h);
    return -(2 * g * w + (h + this.lambda) * w * w) - 2 * this.alpha * Math.abs(w);
  }

  private bestSplit(hist: Float64Array, gTot: number, hTot: number, feats: Int32Array): Best | null {
    const { bc, minH } = this;
    const parentGain = this.gain(gTot, hTot);
    let best: Best | null = null;
    let bestGain = Number.NEGATIVE_INFINITY;
    for (let q = 0; q < feats.length; q++) {
      const j = feats[q]!;
      const off = bc.offsets[j]!;
      const k = bc.cuts[j]!.length;
      const ms = (off + k + 1) << 1;
      const gm = hist[ms]!;
      const hm = hist[ms + 1]!;
      const hasMissing = hm > 0 || gm !== 0;
      let gl = 0;
      let hl = 0;
      let triedEmptyLeft = false;
      // Split after value bin b (b < k): bins ≤ b go left, threshold cut[b].
      for (let b = 0; b < k; b++) {
        const s = (off + b) << 1;
        const gb = hist[s]!;
        const hb = hist[s + 1]!;
        if (hb === 0 && gb === 0) {
          // An empty bin repeats the previous candidate; only the "nothing but missing left" one is new.
          if (hl !== 0 || gl !== 0 || triedEmptyLeft) continue;
          triedEmptyLeft = true;
        }
        gl += gb;
        hl += hb;
        // Missing values go right.
        const hr = hTot - hl;
        if (hl >= minH && hr >= minH) {
          const gain = this.gain(gl, hl) + this.gain(gTot - gl, hr) - parentGain;
          if (gain > bestGain) {
            bestGain = gain;
            best = { gain, feature: j, bin: b, defaultLeft: false, gl, hl };
          }
        }
        if (hasMissing) {
          const gl2 = gl + gm;
          const hl2 = hl + hm;
          const hr2 = hTot - hl2;
          if (hl2 >= minH && hr2 >= minH) {
            const gain = this.gain(gl2, hl2) + this.gain(gTot - gl2, hr2) - parentGain;
            if (gain > bestGain) {
              bestGain = gain;
              best = { gain, feature: j, bin: b, defaultLeft: true, gl: gl2, hl: hl2 };
            }
          }
        }
      }
    }
    return best;
  }
}
