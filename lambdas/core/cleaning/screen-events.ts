/**
 * Screening of device events (`pdm.event.v1`), stage 2 of their cleaning: the per-asset check that needs
 * memory of earlier messages. An event counted twice would inflate the event-count features, and IoT
 * Core (QoS 1), device re-sends and Kinesis retries all deliver duplicates, so each event seq is
 * accepted once. Runs where the twin lives; the state is stored on the twin.
 */
import { eventsTopic } from '../contract/topics.ts';
import type { CleanEvent } from '../types.ts';
import type { Tally } from './counts.ts';
import type { QuarantineRecord, ReasonCode } from './reasons.ts';
import { ReplayGuard, streamPosition } from './screen.ts';

/** Event seqs remembered below and including the highest: older ones are `late_sample`. */
export const EVENT_SCREEN_WINDOW = 256;
const WORDS = EVENT_SCREEN_WINDOW / 32;

/** Per-asset event screening memory: plain JSON, 9 numbers. */
export interface EventScreenState {
  readonly v: 1;
  /** Highest event seq accepted; -1 before the first event. */
  readonly highestSeq: number;
  /** Seqs seen in [highestSeq − 255, highestSeq] as a ring bitmap: bit `seq mod 256` in eight 32-bit words. */
  readonly seen: readonly number[];
  /**
   * Highest raw stream position applied (as {@link ScreenState.through} for samples): an event from a
   * position at or below it is a pipeline replay, skipped without being quarantined or counted again;
   * a device's resend is a new record with a higher position and is screened (`duplicate_seq`).
   */
  readonly through?: string;
  /** What screening quarantined for this asset so far, stored with the twin so it survives restarts. */
  readonly tally?: EventScreenTally;
}

/** Cumulative event-screening outcomes of one asset. */
export interface EventScreenTally {
  /** Event messages none of whose clean events passed screening. */
  readonly messages: number;
  readonly events: number;
  /** Quarantine records by reason. */
  readonly byReason: Readonly<Record<string, number>>;
}

export interface EventScreenResult {
  readonly state: EventScreenState;
  /** Events skipped as pipeline replays (see {@link EventScreenState.through}); not in `counts`. */
  readonly replayed: number;
  /** Events that passed, in arrival order. */
  readonly accepted: CleanEvent[];
  readonly quarantine: QuarantineRecord[];
  readonly counts: Tally;
}

export function initialEventScreenState(): EventScreenState {
  return { v: 1, highestSeq: -1, seen: new Array<number>(WORDS).fill(0) };
}

function isUsable(state: EventScreenState): boolean {
  return (
    state.v === 1 &&
    (state.tally === undefined ||
      (typeof state.tally === 'object' &&
        state.tally !== null &&
        Number.isInteger(state.tally.messages) &&
        Number.isInteger(state.tally.events) &&
        typeof state.tally.byReason === 'object')) &&
    (state.through === undefined || (typeof state.through === 'string' && streamPosition(state.through) === state.through)) &&
    Number.isInteger(state.highestSeq) &&
    state.highestSeq >= -1 &&
    Array.isArray(state.seen) &&
    state.seen.length === WORDS &&
    state.seen.every((w) => Number.isInteger(w))
  );
}

/**
 * Screens one asset's clean events against its state: a seq seen before is `duplicate_seq`, a seq more
 * than {@link EVENT_SCREEN_WINDOW} below the highest is `late_sample` (it can no longer be told from a
 * duplicate). An out-of-order seq inside the window that was not seen is accepted.
 *
 * Pure: neither argument is modified. A fold over the stream in arrival order, so any split of the same
 * events into batches gives the same result, and a replayed batch accepts nothing. A state that is not
 * usable (damaged, or from another version) starts afresh rather than failing the asset.
 */
export function screenEvents(
  state: EventScreenState | null | undefined,
  events: readonly CleanEvent[],
  messageId = 'screen',
): EventScreenResult {
  const base = state !== null && state !== undefined && isUsable(state) ? state : initialEventScreenState();
  let highest = base.highestSeq;
  const words = base.seen.slice();
  const guard = new ReplayGuard(base.through);
  let replayed = 0;
  /** Per message id: events screened, events passed. */
  const perMessage = new Map<string, { n: number; passed: number }>();
  const accepted: CleanEvent[] = [];
  const quarantine: QuarantineRecord[] = [];
  for (const event of events) {
    if (guard.isReplay(event.messageId, event.seq)) {
      replayed++;
      continue;
    }
    let tracked: { n: number; passed: number } | undefined;
    if (event.messageId !== undefined) {
      tracked = perMessage.get(event.messageId);
      if (tracked === undefined) perMessage.set(event.messageId, (tracked = { n: 0, passed: 0 }));
      tracked.n++;
    }
    const seq = event.seq;
    let reason: ReasonCode | undefined;
    let detail = '';
    if (seq <= highest - EVENT_SCREEN_WINDOW) {
      reason = 'late_sample';
      detail = `event seq ${seq} is more than ${EVENT_SCREEN_WINDOW} below the highest seen (${highest}): it cannot be told from a duplicate`;
    } else if (seq > highest) {
      // Seqs skipped between the old and the new highest were never seen: clear their bits.
      const clear = Math.min(seq - highest, EVENT_SCREEN_WINDOW);
      for (let i = 1; i <= clear; i++) setBit(words, highest + i, false);
      highest = seq;
    } else if (getBit(words, seq)) {
      reason = 'duplicate_seq';
      detail = `event seq ${seq} was already accepted`;
    }
    if (reason === undefined) {
      setBit(words, seq, true);
      accepted.push(event);
      if (tracked) tracked.passed++;
      continue;
    }
    const record: { -readonly [K in keyof QuarantineRecord]: QuarantineRecord[K] } = {
      reason,
      level: 'event',
      detail,
      messageId: event.messageId ?? messageId,
      topic: eventsTopic(event.siteId, event.assetId),
      receivedAt: event.receivedAt,
      assetId: event.assetId,
      siteId: event.siteId,
      seq,
      payload: JSON.stringify(event),
    };
    quarantine.push(record);
  }
  let messagesQuarantined = 0;
  for (const m of perMessage.values()) if (m.passed === 0) messagesQuarantined++;
  const byReason = Object.create(null) as Record<string, number>;
  for (const [reason, n] of Object.entries(base.tally?.byReason ?? {})) byReason[reason] = n;
  for (const q of quarantine) byReason[q.reason] = (Object.hasOwn(byReason, q.reason) ? byReason[q.reason]! : 0) + 1;
  const tally: EventScreenTally = {
    messages: (base.tally?.messages ?? 0) + messagesQuarantined,
    events: (base.tally?.events ?? 0) + quarantine.length,
    byReason: { ...byReason },
  };
  return {
    state: { v: 1, highestSeq: highest, seen: words, ...(guard.through !== undefined ? { through: guard.through } : {}), tally },
    replayed,
    accepted,
    quarantine,
    counts: { received: events.length - replayed, clean: accepted.length, quarantined: quarantine.length },
  };
}

function getBit(words: readonly number[], seq: number): boolean {
  const bit = seq % EVENT_SCREEN_WINDOW;
  return ((words[bit >>> 5]! >>> (bit & 31)) & 1) === 1;
}

function setBit(words: number[], seq: number, on: boolean): void {
  const bit = seq % EVENT_SCREEN_WINDOW;
  const w = bit >>> 5;
  const mask = 1 << (bit & 31);
  // `>>> 0` keeps the words unsigned, so the JSON form does not depend on which bits are set.
  words[w] = (on ? words[w]! | mask : words[w]! & ~mask) >>> 0;
}
