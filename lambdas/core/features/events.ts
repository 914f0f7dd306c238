/**
 * Event-count features: how many device events (`pdm.event.v1`) of each known code, of any other code,
 * and in total fell in each of the asset model's windows. The state is a constant-size set of count
 * rings kept inside the feature state (`FeatureState.e`), so it travels with the twin; `batchEventCounts`
 * recomputes the same counts from the full event list and the property tests hold the two together.
 *
 * Windows are bucketed like the sensor windows, but finer: sensor windows keep 6–7 buckets because each
 * holds five statistics per sensor, whereas an event bucket holds a few small integers. With
 * {@link EVENT_BUCKETS_PER_WINDOW} buckets a window spans between 23/24 and 1 of its nominal length, so
 * an hourly event log (the Azure PdM errors) is counted over exactly the last 24 hours by the 24 h window.
 * Cycle clocks with short windows keep one bucket per cycle, which is exact.
 */
import type { AssetModel } from '../catalog/index.ts';
import { eventCodes } from '../catalog/index.ts';
import { bucketIndex, featureLayout, type WindowKey } from './layout.ts';

/** Buckets per window on bucketed layouts (see the module comment). */
export const EVENT_BUCKETS_PER_WINDOW = 24;
/** Feature-name groups after the known codes: codes the catalog does not list, and every event. */
export const EVENT_OTHER = 'other';
export const EVENT_TOTAL = 'total';

/** Count rings of the event features: plain JSON, part of `FeatureState`. */
export interface EventCountState {
  /** Events counted so far (late ones are not). */
  n: number;
  /** Per ring, the index of the newest bucket an event fell in (meaningless while `n` is 0). */
  h: number[];
  /** Per ring, the slots back to back; a slot holds one count per known code, then the "other" count. */
  r: number[][];
}

interface EventRing {
  readonly width: number;
  readonly buckets: number;
}

interface EventWindow {
  readonly key: WindowKey;
  readonly label: string;
  readonly ring: number;
  readonly buckets: number;
}

export interface EventLayout {
  readonly modelId: string;
  /** Known codes in feature order. */
  readonly codes: readonly string[];
  readonly codeIndex: ReadonlyMap<string, number>;
  /** Numbers per slot: one per known code and one for "other". */
  readonly slotSize: number;
  readonly exact: boolean;
  readonly rings: readonly EventRing[];
  readonly windows: readonly EventWindow[];
  /** Feature names in vector order: per code (known, other, total), per window. */
  readonly names: readonly string[];
}

/** An event the counts cannot use: a non-finite time, a fractional cycle or a code that is not a string. */
export class EventFeatureInputError extends Error {
  constructor(
    readonly modelId: string,
    reason: string,
  ) {
    super(`event feature input for model "${modelId}" rejected: ${reason}`);
    this.name = 'EventFeatureInputError';
  }
}

/** The event-count state does not fit the model's layout (written for another model, or damaged). */
export class EventStateMismatchError extends Error {
  constructor(
    readonly modelId: string,
    reason: string,
  ) {
    super(`event-count state cannot be used with model "${modelId}": ${reason}`);
    this.name = 'EventStateMismatchError';
  }
}

function buildEventLayout(model: AssetModel): EventLayout {
  const base = featureLayout(model);
  const codes = eventCodes(model);
  const exact = base.mode === 'exact';
  const rings: EventRing[] = [];
  const windows: EventWindow[] = [];
  for (const w of base.windows) {
    const buckets = exact ? w.length : EVENT_BUCKETS_PER_WINDOW;
    const width = exact ? 1 : w.length / buckets;
    let ring = rings.findIndex((r) => r.width === width);
    if (ring < 0) {
      rings.push({ width, buckets });
      ring = rings.length - 1;
    } else if (rings[ring]!.buckets < buckets) {
      rings[ring] = { width, buckets };
    }
    windows.push({ key: w.key, label: w.label, ring, buckets });
  }
  return {
    modelId: model.id,
    codes,
    codeIndex: new Map(codes.map((c, i) => [c, i])),
    slotSize: codes.length + 1,
    exact,
    rings,
    windows,
    // The feature layout names them (layout.ts), so the vector order has one definition.
    names: base.names.filter((n) => n.startsWith('events_')),
  };
}

const cache = new WeakMap<AssetModel, EventLayout>();

/** The event-count layout of `model`, derived on first use and cached per model object. */
export function eventLayout(model: AssetModel): EventLayout {
  let layout = cache.get(model);
  if (!layout) {
    layout = buildEventLayout(model);
    cache.set(model, layout);
  }
  return layout;
}

/** A fresh, empty event-count state. */
export function createEventCountState(model: AssetModel): EventCountState {
  const layout = eventLayout(model);
  return {
    n: 0,
    h: layout.rings.map(() => 0),
    r: layout.rings.map((ring) => new Array<number>(ring.buckets * layout.slotSize).fill(0)),
  };
}

/** @throws EventStateMismatchError when `e` does not have the layout's shape. */
export function checkEventCountState(e: EventCountState | undefined, model: AssetModel): void {
  const layout = eventLayout(model);
  let ok =
    typeof e === 'object' &&
    e !== null &&
    typeof e.n === 'number' &&
    Array.isArray(e.h) &&
    e.h.length === layout.rings.length &&
    Array.isArray(e.r) &&
    e.r.length === layout.rings.length;
  for (let r = 0; ok && r < layout.rings.length; r++) {
    const d = e!.r[r];
    ok = Array.isArray(d) && d.length === layout.rings[r]!.buckets * layout.slotSize;
  }
  if (!ok) throw new EventStateMismatchError(model.id, 'event count arrays do not match the layout');
}

function slotOf(index: number, buckets: number): number {
  const m = index % buckets;
  return m < 0 ? m + buckets : m;
}

/** Start of the oldest bucket any ring retains: events before it are late and cannot be counted. */
function retainedFrom(e: EventCountState, layout: EventLayout): number {
  let from = Number.POSITIVE_INFINITY;
  for (let r = 0; r < layout.rings.length; r++) {
    const ring = layout.rings[r]!;
    const start = (e.h[r]! - ring.buckets + 1) * ring.width;
    if (start < from) from = start;
  }
  return from;
}

function checkInput(layout: EventLayout, t: number, code: string): void {
  if (typeof t !== 'number' || !Number.isFinite(t)) {
    throw new EventFeatureInputError(layout.modelId, `t must be a finite number, got ${String(t)}`);
  }
  if (layout.exact && !Number.isInteger(t)) {
    throw new EventFeatureInputError(layout.modelId, `t must be a whole cycle number, got ${t}`);
  }
  if (typeof code !== 'string') {
    throw new EventFeatureInputError(layout.modelId, `code must be a string, got ${typeof code}`);
  }
}

/**
 * Counts one event of `code` at clock time `t`. Events may arrive in any order; one older than every
 * retained bucket is not counted (as a late sample is not). Mutates `e`; returns whether the event was
 * counted. On error `e` is left untouched.
 * @throws EventFeatureInputError on a non-finite t, a fractional t on a per-cycle layout, a non-string code.
 */
export function addEventCount(e: EventCountState, model: AssetModel, t: number, code: string): boolean {
  const layout = eventLayout(model);
  checkInput(layout, t, code);
  const first = e.n === 0;
  if (!first && t < retainedFrom(e, layout)) return false;
  const tt = t + 0;
  const at = layout.codeIndex.get(code) ?? layout.codes.length;
  e.n += 1;
  const slotSize = layout.slotSize;
  for (let r = 0; r < layout.rings.length; r++) {
    const ring = layout.rings[r]!;
    const d = e.r[r]!;
    const idx = bucketIndex(tt, ring.width);
    const head = e.h[r]!;
    if (first) {
      e.h[r] = idx;
    } else if (idx > head) {
      const clear = Math.min(idx - head, ring.buckets);
      for (let i = 1; i <= clear; i++) {
        const o = slotOf(head + i, ring.buckets) * slotSize;
        d.fill(0, o, o + slotSize);
      }
      e.h[r] = idx;
    } else if (idx <= head - ring.buckets) {
      continue;
    }
    const o = slotOf(idx, ring.buckets) * slotSize + at;
    d[o] = d[o]! + 1;
  }
  return true;
}

/**
 * Writes the event counts at `now` into `v` from index `start` (names in {@link EventLayout.names}
 * order) and returns the index after the last one written. Counts are 0, never NaN, when nothing was
 * reported: no event in a window is a fact, not a missing value.
 */
export function writeEventCounts(
  e: EventCountState,
  model: AssetModel,
  now: number,
  v: Float64Array,
  start: number,
): number {
  const layout = eventLayout(model);
  const windows = layout.windows;
  const groups = layout.slotSize + 1;
  const perWindow = new Float64Array(groups);
  for (let w = 0; w < windows.length; w++) {
    perWindow.fill(0);
    if (e.n > 0) {
      const win = windows[w]!;
      const ring = layout.rings[win.ring]!;
      const d = e.r[win.ring]!;
      const head = e.h[win.ring]!;
      const nowIdx = bucketIndex(now, ring.width);
      const lo = Math.max(nowIdx - win.buckets + 1, head - ring.buckets + 1);
      const hi = Math.min(nowIdx, head);
      for (let i = lo; i <= hi; i++) {
        const o = slotOf(i, ring.buckets) * layout.slotSize;
        for (let c = 0; c < layout.slotSize; c++) {
          const n = d[o + c]!;
          perWindow[c] = perWindow[c]! + n;
          perWindow[groups - 1] = perWindow[groups - 1]! + n;
        }
      }
    }
    // Names are code-major: the count of group g in window w sits at g · windows + w.
    for (let g = 0; g < groups; g++) v[start + g * windows.length + w] = perWindow[g]!;
  }
  return start + groups * windows.length;
}

/** Upper bound of `JSON.stringify(e).length` for `model`, for any counts up to 2^53. */
export function eventCountStateBytes(model: AssetModel): number {
  const layout = eventLayout(model);
  const maxInt = 16;
  const arrayChars = (count: number, each: number) => 2 + Math.max(0, count - 1) + count * each;
  let total = '{"n":,"h":,"r":}'.length + maxInt;
  total += arrayChars(layout.rings.length, maxInt + 1);
  total += arrayChars(layout.rings.length, 0);
  for (const ring of layout.rings) total += arrayChars(ring.buckets * layout.slotSize, maxInt);
  return total;
}

/** One event as the batch reference takes it: clock time and code. */
export interface FeatureEvent {
  readonly t: number;
  readonly code: string;
}

/**
 * Reference implementation: the event counts at `now` from the full list of events in arrival order
 * (arrival order only matters for late events, exactly as in {@link addEventCount}). Shares only the
 * layout with the streaming code. Slow by design: tests and training checks only.
 */
export function batchEventCounts(model: AssetModel, events: readonly FeatureEvent[], now: number): Float64Array {
  const layout = eventLayout(model);
  const accepted: FeatureEvent[] = [];
  let maxT = Number.NEGATIVE_INFINITY;
  for (const event of events) {
    checkInput(layout, event.t, event.code);
    if (accepted.length > 0) {
      const oldest = Math.min(
        ...layout.rings.map((ring) => (bucketIndex(maxT, ring.width) - ring.buckets + 1) * ring.width),
      );
      if (event.t < oldest) continue;
    }
    accepted.push(event);
    maxT = Math.max(maxT, event.t);
  }
  const groups = [...layout.codes, EVENT_OTHER, EVENT_TOTAL];
  const out = new Float64Array(groups.length * layout.windows.length);
  let k = 0;
  for (const group of groups) {
    for (const w of layout.windows) {
      const ring = layout.rings[w.ring]!;
      const nowIdx = bucketIndex(now, ring.width);
      const head = bucketIndex(maxT, ring.width);
      const lo = Math.max(nowIdx - w.buckets + 1, head - ring.buckets + 1);
      const hi = Math.min(nowIdx, head);
      out[k++] = accepted.filter((ev) => {
        const i = bucketIndex(ev.t, ring.width);
        if (i < lo || i > hi) return false;
        if (group === EVENT_TOTAL) return true;
        if (group === EVENT_OTHER) return !layout.codeIndex.has(ev.code);
        return ev.code === group;
      }).length;
    }
  }
  return out;
}
