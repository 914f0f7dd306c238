/**
 * What a `--data-dir` run keeps besides the stand-ins' own files: the pollers' checkpoints, the
 * clean function's counters and the simulator's position, written together (atomically, via rename)
 * so a restart resumes after the last checkpoint without losing or double-counting anything. Two
 * append-only logs cover what happens between two saves and cannot be redone: the simulator's
 * acknowledged messages (a device never resends what was acknowledged) and the alerts the bus
 * delivered. What screening quarantined is counted in the twins themselves (`screen.tally`).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { TwinHealthChangedDetail } from '../../lambdas/core/alerts/policy.ts';

/** 2: counters hold the clean function's counts only (screening's are in the twins). */
export const STATE_VERSION = 2;
export const SIM_ACKS_FILE = 'sim-acks.log';
export const ALERTS_SEEN_FILE = 'alerts-seen.jsonl';

export interface CountTriple {
  received: number;
  accepted: number;
  quarantined: number;
}

export interface SampleTriple {
  received: number;
  clean: number;
  quarantined: number;
}

export interface Counters {
  messages: CountTriple;
  samples: SampleTriple;
  readings: SampleTriple;
  /** Quarantine records by reason, both functions. */
  byReason: Record<string, number>;
  /** Screening (features function) quarantines by level; filled in the summary from the twins' tallies. */
  screenByLevel: Record<string, number>;
  alerts: Record<string, number>;
  refusedPublishes: number;
  refusedConnects: number;
  /** Added after state version 1 files were first written: absent in those, read as empty. */
  refusedByReason?: Record<string, number>;
  connectsRefusedByReason?: Record<string, number>;
  refusedSubscribes?: number;
  takeovers?: number;
  onFailure: number;
  retriedBatches: number;
  rawWritten: number;
}

export interface PersistedState {
  readonly version: typeof STATE_VERSION;
  /** The fleet the data belongs to: a restart with another fleet would mix two worlds. */
  readonly fleet: { readonly assets: number; readonly seed: number };
  readonly checkpoints: { readonly raw: Record<string, string>; readonly clean: Record<string, string> };
  readonly counters: Counters;
  readonly sim: { readonly tick: number; readonly clock: number; readonly seqs: Record<string, number> } | null;
  readonly recentAlerts: readonly TwinHealthChangedDetail[];
}

export function emptyCounters(): Counters {
  return {
    messages: { received: 0, accepted: 0, quarantined: 0 },
    samples: { received: 0, clean: 0, quarantined: 0 },
    readings: { received: 0, clean: 0, quarantined: 0 },
    byReason: {},
    screenByLevel: {},
    alerts: {},
    refusedPublishes: 0,
    refusedConnects: 0,
    refusedByReason: {},
    connectsRefusedByReason: {},
    refusedSubscribes: 0,
    takeovers: 0,
    onFailure: 0,
    retriedBatches: 0,
    rawWritten: 0,
  };
}

export class StateFileError extends Error {
  override readonly name: string = 'StateFileError';
}

export function readState(file: string): PersistedState | null {
  if (!existsSync(file)) return null;
  let parsed: PersistedState;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as PersistedState;
  } catch (err) {
    throw new StateFileError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed.version !== STATE_VERSION) throw new StateFileError(`${file} has state version ${String(parsed.version)}, expected ${STATE_VERSION}`);
  return parsed;
}

export function writeState(file: string, state: PersistedState): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, file);
}

/**
 * The simulator's device-side QoS 1 session, as far as a restart needs it: per tick after the saved
 * one, which of its messages the broker acknowledged (by the message's index in the tick: one asset
 * sends several messages in a tick, telemetry, device events, maintenance), and the last tick whose
 * messages were handed to the broker at all.
 */
export interface SimAcks {
  readonly acked: Map<number, Set<string>>;
  /** The last tick published before the process ended (0: none after the saved tick). */
  readonly lastSent: number;
}

/** Key of a message in the ack log: its index among the tick's messages (the simulator is deterministic). */
export function simMessageKey(index: number): string {
  return String(index);
}

/** Ack-log line: the tick's messages are about to be handed to the broker. */
export function simSentLine(tick: number): string {
  return `${tick}\tsent\n`;
}

/** Ack-log line: the broker acknowledged that message of that tick. */
export function simAckLine(tick: number, key: string): string {
  return `${tick}\tack\t${key}\n`;
}

/**
 * Reads the simulator's ack log for the ticks after `afterTick`. Lines of an unknown form (a torn last
 * line of a process killed mid-append, or a log of an older version keyed by asset id) are ignored:
 * their messages are then sent again and screened as duplicates, never lost.
 */
export function readSimAcks(file: string, afterTick: number): SimAcks {
  const acked = new Map<number, Set<string>>();
  let lastSent = 0;
  if (!existsSync(file)) return { acked, lastSent };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d+)\t(sent|ack\t(\d+))$/.exec(line);
    if (!m) continue;
    const tick = Number(m[1]);
    if (tick <= afterTick) continue;
    if (m[2] === 'sent') {
      lastSent = Math.max(lastSent, tick);
      continue;
    }
    let set = acked.get(tick);
    if (!set) acked.set(tick, (set = new Set()));
    set.add(m[3]!);
    // An acknowledged message was sent, whatever the log says of its tick.
    lastSent = Math.max(lastSent, tick);
  }
  return { acked, lastSent };
}

/**
 * Rewrites the ack log with what is after `afterTick` (the saved state covers the rest): the
 * acknowledgements of those ticks and the last tick sent.
 */
export function writeSimAcks(file: string, state: { readonly acked: ReadonlyMap<number, ReadonlySet<string>>; readonly lastSent: number }, afterTick: number): void {
  const lines: string[] = [];
  if (state.lastSent > afterTick) lines.push(simSentLine(state.lastSent));
  for (const [tick, keys] of state.acked) if (tick > afterTick) for (const key of keys) lines.push(simAckLine(tick, key));
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, lines.join(''));
  renameSync(tmp, file);
}

/** The alerts the bus delivered, as logged one JSON line each; a torn last line is ignored. */
export function readAlertsSeen(file: string): {
  ids: Set<string>;
  bySeverity: Record<string, number>;
  recent: TwinHealthChangedDetail[];
} | null {
  if (!existsSync(file)) return null;
  const ids = new Set<string>();
  const bySeverity: Record<string, number> = {};
  const recent: TwinHealthChangedDetail[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.length === 0) continue;
    let alert: TwinHealthChangedDetail;
    try {
      alert = JSON.parse(line) as TwinHealthChangedDetail;
    } catch {
      continue;
    }
    if (typeof alert?.alertId !== 'string' || ids.has(alert.alertId)) continue;
    ids.add(alert.alertId);
    bySeverity[alert.severity] = (bySeverity[alert.severity] ?? 0) + 1;
    recent.push(alert);
    if (recent.length > 2000) recent.splice(0, 1000);
  }
  return { ids, bySeverity, recent: recent.slice(-1000) };
}
