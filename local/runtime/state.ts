/**
 * What a `--data-dir` run keeps besides the stand-ins' own files: the pollers' checkpoints, the
 * summary's counters and the simulator's position, written together (atomically, via rename) so a
 * restart resumes after the last checkpoint without losing or double-counting anything.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { TwinHealthChangedDetail } from '../../lambdas/core/alerts/policy.ts';

export const STATE_VERSION = 1;

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
  /** Screening (features function) quarantines by level. */
  screenByLevel: Record<string, number>;
  alerts: Record<string, number>;
  refusedPublishes: number;
  refusedConnects: number;
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
