/**
 * Stage 2 of cleaning: per-asset checks that need memory of earlier messages. It runs where the twin
 * lives (the twin item carries the state), because the Lambda that runs `cleanMessage` is stateless and
 * sees an asset's messages spread over shards, retries and batches.
 */
import type { AssetModel } from '../catalog/types.ts';
import { telemetryTopic } from '../contract/topics.ts';
import type { CleanSample } from '../types.ts';
import type { SampleCounts } from './counts.ts';
import { indexModel } from './model-index.ts';
import { type QuarantineRecord, REASONS, type ReasonCode } from './reasons.ts';

/** Seqs remembered below and including the highest: older ones are `late_sample`. */
export const SCREEN_WINDOW = 256;
/**
 * Largest step above the highest seq taken without confirmation. A sample further ahead is
 * `seq_jump` and does not move the window; a next sample within {@link SCREEN_WINDOW} above it confirms
 * the jump (a device that really skipped ahead loses one sample). Without the bound, one message with
 * seq 2^53−1 would make every later normal seq `late_sample`: the asset blinded by a single message.
 * 2^20 is about twelve days of one sample a second lost in transit.
 */
export const MAX_SEQ_JUMP = 2 ** 20;
const WORDS = SCREEN_WINDOW / 32;

export interface FlatlineRun {
  /** Last value of the sensor in the in-order stream. */
  readonly value: number;
  /** How many consecutive in-order samples carrying the sensor had exactly that value. */
  readonly run: number;
}

/**
 * Per-asset screening memory: plain JSON, bounded (8 numbers plus one entry per flatline-checked
 * sensor of the model), stored with the twin between invocations.
 */
export interface ScreenState {
  readonly v: 1;
  /** Highest seq seen; -1 before the first sample. */
  readonly highestSeq: number;
  /**
   * Seqs seen in the window [highestSeq − 255, highestSeq], as a ring bitmap: bit `seq mod 256`, in
   * eight unsigned 32-bit words.
   */
  readonly seen: readonly number[];
  /** Latest `ts` of an accepted sample (epoch ms); null before the first. */
  readonly latestTs: number | null;
  /** Per sensor subject to the flatline check. */
  readonly flatline: Readonly<Record<string, FlatlineRun>>;
  /** The last `seq_jump` seq, waiting for a sample that confirms it; null or absent when none. */
  readonly jump?: number | null;
  /**
   * Highest raw stream position applied (the Kinesis sequence number a sample's `messageId` carries,
   * decimal digits). A sample from a position at or below it is a pipeline replay (a retried or
   * re-read record), skipped without being counted again; a device's resend is a new record, with a
   * higher position, and is screened (`duplicate_seq`). Absent until a sample with a position is seen.
   */
  readonly through?: string;
  /** What screening quarantined for this asset so far, stored with the twin so it survives restarts. */
  readonly tally?: ScreenTally;
}

/** Cumulative screening outcomes of one asset. */
export interface ScreenTally {
  /** Messages none of whose clean samples passed screening. */
  readonly messages: number;
  readonly samples: number;
  readonly readings: number;
  /** Quarantine records by reason. */
  readonly byReason: Readonly<Record<string, number>>;
}

export interface ScreenOptions {
  /**
   * Goes into the `messageId` of quarantine records (e.g. the Kinesis sequence number of the clean record).
   * @default 'screen'
   */
  readonly messageId?: string;
}

export interface ScreenResult {
  readonly state: ScreenState;
  /** Samples skipped as pipeline replays (see {@link ScreenState.through}); not in `counts`. */
  readonly replayed: number;
  /** Messages (by `messageId`) none of whose screened samples passed. */
  readonly messagesQuarantined: number;
  /** Samples that passed, in arrival order; flatlined readings removed. */
  readonly accepted: CleanSample[];
  /**
   * Input sample → the sample that passed for it (the same object, or a copy without its flatlined
   * readings). Callers that walk their own input order look samples up here, never by identity in
   * `accepted`: a copy would not be found and its clean readings would vanish uncounted.
   */
  readonly passed: ReadonlyMap<CleanSample, CleanSample>;
  readonly quarantine: QuarantineRecord[];
  readonly counts: SampleCounts;
}

/** The state before an asset's first sample. */
export function initialScreenState(): ScreenState {
  return { v: 1, highestSeq: -1, seen: new Array<number>(WORDS).fill(0), latestTs: null, flatline: {} };
}

type MutableRecord = { -readonly [K in keyof QuarantineRecord]: QuarantineRecord[K] };
interface Run {
  value: number;
  run: number;
}

/**
 * Screens one asset's clean samples against its state: duplicates across messages (`duplicate_seq`),
 * samples too old for the window (`late_sample`), seqs too far ahead (`seq_jump`) and stuck sensors
 * (`flatline`, `no_valid_readings`). Samples of raw records already applied are skipped (`replayed`).
 *
 * Pure: neither `state` nor `samples` is modified, and the same inputs give the same result. Samples are
 * processed in arrival order (of two equal seqs the first wins), never re-sorted per batch: screening is
 * a fold over the stream, so any split of the same stream into batches gives the same result. A sample
 * below the highest seq but inside the window, and not seen before, is accepted as an out-of-order
 * arrival: the feature engine places it by `ts`. It neither takes part in nor changes the flatline
 * runs, which follow the in-order stream only, because a late value says nothing about the sensor now.
 */
export function screenSamples(
  state: ScreenState | undefined,
  samples: readonly CleanSample[],
  model: AssetModel,
  options: ScreenOptions = {},
): ScreenResult {
  const flatlineThresholds = indexModel(model).flatline;
  const messageId = options.messageId ?? 'screen';
  const base = state !== undefined && isUsable(state) ? state : initialScreenState();
  let highest = base.highestSeq;
  let latestTs = base.latestTs;
  let jump = base.jump ?? null;
  /** Per message id: samples screened, samples passed. */
  const perMessage = new Map<string, { n: number; passed: number }>();
  const byReason = new Map<string, number>();
  const words = base.seen.slice();
  const runs = new Map<string, Run>();
  for (const name in base.flatline) {
    const entry = base.flatline[name];
    if (entry !== undefined && flatlineThresholds.has(name))
      runs.set(name, { value: entry.value, run: entry.run });
  }

  const accepted: CleanSample[] = [];
  const passed = new Map<CleanSample, CleanSample>();
  const quarantine: QuarantineRecord[] = [];
  const counts: SampleCounts = {
    samples: { received: 0, clean: 0, quarantined: 0 },
    readings: { received: 0, clean: 0, quarantined: 0 },
  };
  let replayed = 0;
  const quarantineAt = quarantine.length;
  const guard = new ReplayGuard(base.through);

  for (let index = 0; index < samples.length; index++) {
    const sample = samples[index]!;
    if (guard.isReplay(sample.messageId, sample.seq)) {
      replayed++;
      continue;
    }
    counts.samples.received++;
    const tracked = sample.messageId !== undefined ? messageEntry(perMessage, sample.messageId) : undefined;
    if (tracked) tracked.n++;
    const seq = sample.seq;
    const readings = sample.readings;
    let n = 0;
    for (const _ in readings) n++;
    counts.readings.received += n;

    let reason: ReasonCode | undefined;
    let detail = '';
    if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) {
      reason = 'invalid_sample';
      detail = `seq=${String(seq)} is not a non-negative integer`;
    } else if (seq <= highest - SCREEN_WINDOW) {
      reason = 'late_sample';
      detail = `seq ${seq} is more than ${SCREEN_WINDOW - 1} below the highest seq ${highest}: too late to integrate`;
    } else if (seq <= highest && isSeen(words, seq)) {
      reason = 'duplicate_seq';
      detail = `seq ${seq} was already received for asset ${sample.assetId}`;
    } else if (highest >= 0 && seq - highest > MAX_SEQ_JUMP && !(jump !== null && seq > jump && seq - jump <= SCREEN_WINDOW)) {
      reason = 'seq_jump';
      detail = `seq ${seq} is more than ${MAX_SEQ_JUMP} above the highest seq ${highest}; a next sample just above it confirms the jump`;
      jump = seq;
    }
    if (reason !== undefined) {
      counts.readings.quarantined += n;
      quarantine.push(record(reason, detail, sample, index, messageId, undefined));
      continue;
    }

    const inOrder = seq > highest;
    if (inOrder) {
      advance(words, highest, seq);
      highest = seq;
      jump = null;
    } else {
      markSeen(words, seq);
    }

    let kept: Record<string, number> | undefined;
    let keptCount = n;
    if (inOrder) {
      for (const name in readings) {
        const threshold = flatlineThresholds.get(name);
        if (threshold === undefined) continue;
        const value = readings[name]!;
        let entry = runs.get(name);
        if (entry === undefined) {
          entry = { value, run: 1 };
          runs.set(name, entry);
        } else if (entry.value === value) {
          entry.run++;
        } else {
          entry.value = value;
          entry.run = 1;
        }
        if (entry.run < threshold) continue;
        if (kept === undefined) kept = { ...readings };
        delete kept[name];
        keptCount--;
        counts.readings.quarantined++;
        quarantine.push(
          record(
            'flatline',
            `${name}=${value} unchanged for ${entry.run} consecutive samples (limit ${threshold})`,
            sample,
            index,
            messageId,
            name,
          ),
        );
      }
    }
    if (keptCount === 0) {
      const why = n === 0 ? 'sample has no readings' : `all ${n} readings of the sample were quarantined`;
      quarantine.push(record('no_valid_readings', why, sample, index, messageId, undefined));
      continue;
    }
    const clean = kept === undefined ? sample : { ...sample, readings: kept };
    accepted.push(clean);
    passed.set(sample, clean);
    if (tracked) tracked.passed++;
    if (latestTs === null || sample.ts > latestTs) latestTs = sample.ts;
  }

  counts.samples.clean = accepted.length;
  counts.samples.quarantined = counts.samples.received - accepted.length;
  counts.readings.clean = counts.readings.received - counts.readings.quarantined;
  let messagesQuarantined = 0;
  for (const m of perMessage.values()) if (m.passed === 0) messagesQuarantined++;
  for (let i = quarantineAt; i < quarantine.length; i++) {
    const reason = quarantine[i]!.reason;
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }

  const flatline: Record<string, FlatlineRun> = {};
  for (const [name, entry] of runs) flatline[name] = { value: entry.value, run: entry.run };
  const next: ScreenState = {
    v: 1,
    highestSeq: highest,
    seen: words,
    latestTs,
    flatline,
    ...(jump !== null ? { jump } : {}),
    ...(guard.through !== undefined ? { through: guard.through } : {}),
    tally: addTally(base.tally, messagesQuarantined, counts, byReason),
  };
  return { state: next, replayed, messagesQuarantined, accepted, passed, quarantine, counts };
}

function messageEntry(map: Map<string, { n: number; passed: number }>, id: string): { n: number; passed: number } {
  let entry = map.get(id);
  if (entry === undefined) map.set(id, (entry = { n: 0, passed: 0 }));
  return entry;
}

function addTally(before: ScreenTally | undefined, messages: number, counts: SampleCounts, byReason: ReadonlyMap<string, number>): ScreenTally {
  const reasons = Object.create(null) as Record<string, number>;
  for (const [reason, n] of Object.entries(before?.byReason ?? {})) reasons[reason] = n;
  for (const [reason, n] of byReason) reasons[reason] = (Object.hasOwn(reasons, reason) ? reasons[reason]! : 0) + n;
  return {
    messages: (before?.messages ?? 0) + messages,
    samples: (before?.samples ?? 0) + counts.samples.quarantined,
    readings: (before?.readings ?? 0) + counts.readings.quarantined,
    byReason: { ...reasons },
  };
}

const DIGITS = /^[0-9]{1,128}$/;

/** The raw stream position a message id stands for (a Kinesis sequence number), without leading zeros. */
export function streamPosition(messageId: string | undefined): string | undefined {
  if (messageId === undefined || !DIGITS.test(messageId)) return undefined;
  const trimmed = messageId.replace(/^0+(?=.)/, '');
  return trimmed;
}

/** Orders two decimal positions of any length (Kinesis sequence numbers exceed 2^53). */
export function comparePositions(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Tells pipeline replays from new records by raw stream position (see {@link ScreenState.through}): a
 * record at or below the position already applied, or a (position, seq) pair seen earlier in this call,
 * is a replay. Shared by sample and event screening, which keep their own `through`.
 */
export class ReplayGuard {
  private readonly seenHere = new Set<string>();
  private highest: string | undefined;

  constructor(private readonly applied: string | undefined) {
    this.highest = applied;
  }

  /** True for a replay (skip it, count it nowhere); otherwise records the position. */
  isReplay(messageId: string | undefined, seq: number): boolean {
    const position = streamPosition(messageId);
    if (position === undefined) return false;
    const key = `${position}:${seq}`;
    if ((this.applied !== undefined && comparePositions(position, this.applied) <= 0) || this.seenHere.has(key)) return true;
    this.seenHere.add(key);
    if (this.highest === undefined || comparePositions(position, this.highest) > 0) this.highest = position;
    return false;
  }

  /** The highest position applied after this call, for the next state's `through`. */
  get through(): string | undefined {
    return this.highest;
  }
}

/** Moves the window up to `seq`: forgets what was seen at the slots the new seqs take over. */
function advance(words: number[], highest: number, seq: number): void {
  if (highest < 0 || seq - highest >= SCREEN_WINDOW) words.fill(0);
  else for (let s = highest + 1; s < seq; s++) clearSeen(words, s);
  markSeen(words, seq);
}

function slot(seq: number): number {
  return seq % SCREEN_WINDOW;
}

function isSeen(words: readonly number[], seq: number): boolean {
  const s = slot(seq);
  return ((words[s >>> 5]! >>> (s & 31)) & 1) === 1;
}

function markSeen(words: number[], seq: number): void {
  const s = slot(seq);
  words[s >>> 5] = (words[s >>> 5]! | (1 << (s & 31))) >>> 0;
}

function clearSeen(words: number[], seq: number): void {
  const s = slot(seq);
  words[s >>> 5] = (words[s >>> 5]! & ~(1 << (s & 31))) >>> 0;
}

/** Tolerates a state written by an older or broken writer: anything unexpected starts afresh. */
function isUsable(state: ScreenState): boolean {
  return (
    typeof state === 'object' &&
    state !== null &&
    Number.isInteger(state.highestSeq) &&
    Array.isArray(state.seen) &&
    state.seen.length === WORDS &&
    state.seen.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) &&
    typeof state.flatline === 'object' &&
    state.flatline !== null &&
    (state.jump === undefined || state.jump === null || Number.isInteger(state.jump)) &&
    (state.through === undefined || (typeof state.through === 'string' && DIGITS.test(state.through))) &&
    (state.tally === undefined || isTally(state.tally))
  );
}

function isTally(t: ScreenTally): boolean {
  return (
    typeof t === 'object' &&
    t !== null &&
    [t.messages, t.samples, t.readings].every((n) => Number.isInteger(n) && n >= 0) &&
    typeof t.byReason === 'object' &&
    t.byReason !== null
  );
}

function record(
  reason: ReasonCode,
  detail: string,
  sample: CleanSample,
  index: number,
  messageId: string,
  sensor: string | undefined,
): QuarantineRecord {
  const rec: MutableRecord = {
    reason,
    level: REASONS[reason],
    detail,
    messageId: sample.messageId ?? messageId,
    topic: telemetryTopic(sample.siteId, sample.assetId),
    receivedAt: sample.receivedAt,
    assetId: sample.assetId,
    siteId: sample.siteId,
    seq: sample.seq,
    sampleIndex: index,
    payload: JSON.stringify(sample),
  };
  if (sensor !== undefined) rec.sensor = sensor;
  return rec;
}
