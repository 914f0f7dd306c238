/**
 * Health state machine with hysteresis, used for the asset and for each of its components.
 *
 * Risk in [0, 1] drives NORMAL → WATCH → WARNING → CRITICAL. Escalation needs `confirmSamples`
 * consecutive samples at or above the next state's enter threshold (one noisy sample does not page
 * anybody); de-escalation needs the risk to stay below the current state's exit threshold for
 * `minDwell` clock units, and the state to have been held at least that long. Exit thresholds sit
 * below enter thresholds, so a risk hovering at a threshold does not flap. MAINTENANCE is entered by a
 * maintenance event and left after `maintenanceSettle` clock units, when the repaired part has had time
 * to produce representative readings; alerts for the part are suppressed meanwhile.
 */

export const HEALTH_STATES = ['NORMAL', 'WATCH', 'WARNING', 'CRITICAL', 'MAINTENANCE'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

/** Graded states in order of severity (MAINTENANCE stands outside the scale). */
export const GRADED = ['NORMAL', 'WATCH', 'WARNING', 'CRITICAL'] as const;
export type GradedState = (typeof GRADED)[number];

export function severityRank(s: HealthState): number {
  return s === 'MAINTENANCE' ? -1 : GRADED.indexOf(s);
}

export interface HealthPolicy {
  /** Risk at or above which a state is entered. @default WATCH 0.5, WARNING 0.7, CRITICAL 0.9 */
  readonly enter: Readonly<Record<Exclude<GradedState, 'NORMAL'>, number>>;
  /** Risk below which a state may be left. Must be ≤ its enter threshold. @default 0.4, 0.6, 0.8 */
  readonly exit: Readonly<Record<Exclude<GradedState, 'NORMAL'>, number>>;
  /** Consecutive samples needed to escalate. @default 2 */
  readonly confirmSamples: number;
  /** Clock units a state is held, and risk stays below exit, before de-escalating. @default 1 h / 3 cycles */
  readonly minDwell: number;
  /** Clock units a component stays in MAINTENANCE after a maintenance event. @default 1 h / 1 cycle */
  readonly maintenanceSettle: number;
}

export class InvalidHealthPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidHealthPolicyError';
  }
}

const HOUR = 3_600_000;

export function defaultHealthPolicy(clock: 'time' | 'cycle'): HealthPolicy {
  return {
    enter: { WATCH: 0.5, WARNING: 0.7, CRITICAL: 0.9 },
    exit: { WATCH: 0.4, WARNING: 0.6, CRITICAL: 0.8 },
    confirmSamples: 2,
    minDwell: clock === 'time' ? HOUR : 3,
    maintenanceSettle: clock === 'time' ? HOUR : 1,
  };
}

/** Rejects contradictory policies (exit above enter, unordered thresholds) with a clear message. */
export function validateHealthPolicy(p: HealthPolicy): HealthPolicy {
  const levels = ['WATCH', 'WARNING', 'CRITICAL'] as const;
  let previous = 0;
  for (const level of levels) {
    const enter = p.enter[level];
    const exit = p.exit[level];
    if (!(enter > 0 && enter <= 1))
      throw new InvalidHealthPolicyError(`enter.${level}=${enter} must be in (0, 1]`);
    if (!(exit >= 0 && exit <= enter)) {
      throw new InvalidHealthPolicyError(`exit.${level}=${exit} must be in [0, enter.${level}=${enter}]`);
    }
    if (enter <= previous)
      throw new InvalidHealthPolicyError(`enter thresholds must increase: ${level}=${enter}`);
    previous = enter;
  }
  if (!Number.isInteger(p.confirmSamples) || p.confirmSamples < 1) {
    throw new InvalidHealthPolicyError(`confirmSamples=${p.confirmSamples} must be an integer ≥ 1`);
  }
  if (!(p.minDwell >= 0)) throw new InvalidHealthPolicyError(`minDwell=${p.minDwell} must be ≥ 0`);
  if (!(p.maintenanceSettle >= 0)) {
    throw new InvalidHealthPolicyError(`maintenanceSettle=${p.maintenanceSettle} must be ≥ 0`);
  }
  return p;
}

/** Plain-JSON tracker stored in the twin. */
export interface HealthTrack {
  state: HealthState;
  /** Clock time the current state was entered. */
  since: number;
  /** Highest state the last consecutive above-threshold samples point to, and how many there were. */
  pending: GradedState | null;
  pendingCount: number;
  /** Clock time since which risk has been below the current state's exit threshold. */
  belowSince: number | null;
  /** For MAINTENANCE: clock time at which the settle period ends. */
  settleUntil: number | null;
}

export function newHealthTrack(t: number): HealthTrack {
  return { state: 'NORMAL', since: t, pending: null, pendingCount: 0, belowSince: null, settleUntil: null };
}

export interface HealthChange {
  readonly from: HealthState;
  readonly to: HealthState;
  readonly at: number;
}

function levelFromEnter(risk: number, p: HealthPolicy): GradedState {
  if (risk >= p.enter.CRITICAL) return 'CRITICAL';
  if (risk >= p.enter.WARNING) return 'WARNING';
  if (risk >= p.enter.WATCH) return 'WATCH';
  return 'NORMAL';
}

function levelFromExit(risk: number, p: HealthPolicy): GradedState {
  if (risk >= p.exit.CRITICAL) return 'CRITICAL';
  if (risk >= p.exit.WARNING) return 'WARNING';
  if (risk >= p.exit.WATCH) return 'WATCH';
  return 'NORMAL';
}

function moveTo(track: HealthTrack, to: HealthState, t: number): HealthChange {
  const change = { from: track.state, to, at: t };
  track.state = to;
  track.since = t;
  track.pending = null;
  track.pendingCount = 0;
  track.belowSince = null;
  track.settleUntil = null;
  return change;
}

/** Puts the tracker into MAINTENANCE (a maintenance event happened at clock time `t`). */
export function enterMaintenance(track: HealthTrack, t: number, p: HealthPolicy): HealthChange | null {
  const change = track.state === 'MAINTENANCE' ? null : moveTo(track, 'MAINTENANCE', t);
  track.settleUntil = Math.max(track.settleUntil ?? Number.NEGATIVE_INFINITY, t + p.maintenanceSettle);
  return change;
}

/**
 * Folds one risk observation at clock time `t` into the tracker (mutates it) and returns the state
 * changes it caused (at most two: leaving MAINTENANCE, then an escalation).
 */
export function observeRisk(track: HealthTrack, risk: number, t: number, p: HealthPolicy): HealthChange[] {
  return observeRiskInto(track, risk, t, p, []);
}

/**
 * {@link observeRisk} appending the changes to `changes` (returned), so a caller folding many samples can
 * reuse one array instead of allocating one per sample and tracker.
 */
export function observeRiskInto(
  track: HealthTrack,
  risk: number,
  t: number,
  p: HealthPolicy,
  changes: HealthChange[],
): HealthChange[] {
  if (track.state === 'MAINTENANCE') {
    if (track.settleUntil !== null && t < track.settleUntil) return changes;
    changes.push(moveTo(track, 'NORMAL', t));
  }
  const current = track.state as GradedState;
  const rank = GRADED.indexOf(current);
  const up = levelFromEnter(risk, p);
  if (GRADED.indexOf(up) > rank) {
    // Escalate to the lowest state all of the confirming samples support.
    const target =
      track.pending !== null && GRADED.indexOf(track.pending) < GRADED.indexOf(up) ? track.pending : up;
    track.pending = target;
    track.pendingCount += 1;
    track.belowSince = null;
    if (track.pendingCount >= p.confirmSamples) changes.push(moveTo(track, target, t));
    return changes;
  }
  track.pending = null;
  track.pendingCount = 0;
  if (current === 'NORMAL') return changes;
  const down = levelFromExit(risk, p);
  if (GRADED.indexOf(down) >= rank) {
    track.belowSince = null;
    return changes;
  }
  if (track.belowSince === null) track.belowSince = t;
  if (t - track.belowSince >= p.minDwell && t - track.since >= p.minDwell)
    changes.push(moveTo(track, down, t));
  return changes;
}
