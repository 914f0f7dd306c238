/**
 * Scores a replay's alerts against the failures it should have announced. Pure: the replay collects
 * alerts and failures, this decides which alert preceded which failure and which alert was false.
 *
 * Definitions (H = horizon, 72 h by default; L = least lead, 1 h by default; only WARNING and CRITICAL
 * alerts count, INFO never does):
 * - strict: a failure of (machine m, component c) at F is preceded when a component-scoped alert of m
 *   for c has `at` in [F − H, F − L], i.e. 1–72 h before. A component-scoped alert is false when no
 *   failure of (m, c) lies in (at, at + H].
 * - loose: a failure of m (any component) at F is preceded when any alert of m (asset or component
 *   scope, any component) has `at` in [F − H, F − L]. Any alert is false when no failure of m, of any
 *   component, lies in (at, at + H].
 * Lead time is F minus the first qualifying alert.
 */

/** The parts of an alert (`TwinHealthChangedDetail`) that scoring reads. */
export interface ScoredAlert {
  readonly alertId: string;
  readonly assetId: string;
  readonly scope: 'asset' | 'component';
  readonly component?: string;
  readonly severity: 'critical' | 'warning' | 'info';
  /** ISO-8601, the time of the sample that caused the change. */
  readonly at: string;
}

/** A failure of one component of one asset, epoch ms. */
export interface ScoredFailure {
  readonly assetId: string;
  readonly component: string;
  readonly ts: number;
}

export interface ScoreOptions {
  /** Look-back window before a failure, and look-ahead after an alert, in ms. @default 72 h */
  readonly horizonMs?: number;
  /**
   * Least lead that counts: an alert must come at least this long before the failure to precede it (an
   * alert raised by the failure's own reading is no warning). @default 1 h
   */
  readonly minLeadMs?: number;
  /**
   * Failures to be announced and alerts to be judged are those with a time in [from, to). Failures
   * outside it still make an alert inside it true. @default everything
   */
  readonly from?: number;
  /** @default everything */
  readonly to?: number;
}

export interface LeadTimes {
  /** Number of preceded failures the distribution is over. */
  readonly n: number;
  readonly medianH: number | null;
  readonly minH: number | null;
  readonly maxH: number | null;
}

export interface ComponentScore {
  readonly failures: number;
  readonly precededStrict: number;
  readonly precededLoose: number;
  /** Component-scoped WARNING/CRITICAL alerts for this component. */
  readonly alertsStrict: number;
  readonly falseStrict: number;
}

export interface ReplayScore {
  readonly horizonH: number;
  readonly failures: number;
  readonly strict: {
    readonly preceded: number;
    readonly leadTime: LeadTimes;
    /** Component-scoped WARNING/CRITICAL alerts judged. */
    readonly alerts: number;
    readonly falseAlerts: number;
  };
  readonly loose: {
    readonly preceded: number;
    readonly leadTime: LeadTimes;
    /** WARNING/CRITICAL alerts of any scope judged. */
    readonly alerts: number;
    readonly falseAlerts: number;
  };
  readonly byComponent: Readonly<Record<string, ComponentScore>>;
  /** One line per failure: whether and how early it was announced. */
  readonly perFailure: readonly {
    readonly assetId: string;
    readonly component: string;
    readonly at: string;
    readonly leadStrictH: number | null;
    readonly leadLooseH: number | null;
  }[];
}

export const DEFAULT_HORIZON_MS = 72 * 3_600_000;
export const DEFAULT_MIN_LEAD_MS = 3_600_000;
const HOUR = 3_600_000;

export class ScoreInputError extends Error {
  override readonly name: string = 'ScoreInputError';
}

interface Timed {
  readonly alert: ScoredAlert;
  readonly t: number;
}

function leadTimes(values: readonly number[]): LeadTimes {
  if (values.length === 0) return { n: 0, medianH: null, minH: null, maxH: null };
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  const r = (ms: number) => Math.round((ms / HOUR) * 100) / 100;
  return { n: s.length, medianH: r(median), minH: r(s[0]!), maxH: r(s[s.length - 1]!) };
}

/** Scores WARNING/CRITICAL alerts against failures; see the module comment for the definitions. */
export function scoreReplay(
  alerts: readonly ScoredAlert[],
  failures: readonly ScoredFailure[],
  options: ScoreOptions = {},
): ReplayScore {
  const h = options.horizonMs ?? DEFAULT_HORIZON_MS;
  if (!(h > 0)) throw new ScoreInputError(`horizonMs must be positive, got ${h}`);
  const minLead = options.minLeadMs ?? DEFAULT_MIN_LEAD_MS;
  if (!(minLead >= 0 && minLead < h)) throw new ScoreInputError(`minLeadMs must be in [0, horizonMs), got ${minLead}`);
  const from = options.from ?? Number.NEGATIVE_INFINITY;
  const to = options.to ?? Number.POSITIVE_INFINITY;
  const inWindow = (t: number) => t >= from && t < to;

  // At-least-once delivery may repeat an alert: each id counts once.
  const seen = new Set<string>();
  const timed: Timed[] = [];
  for (const alert of alerts) {
    if (alert.severity === 'info' || seen.has(alert.alertId)) continue;
    seen.add(alert.alertId);
    const t = Date.parse(alert.at);
    if (!Number.isFinite(t)) throw new ScoreInputError(`alert ${alert.alertId} has an unreadable time "${alert.at}"`);
    timed.push({ alert, t });
  }
  const byAsset = new Map<string, Timed[]>();
  for (const x of timed) {
    const list = byAsset.get(x.alert.assetId);
    if (list) list.push(x);
    else byAsset.set(x.alert.assetId, [x]);
  }
  const failuresOf = new Map<string, ScoredFailure[]>();
  for (const f of failures) {
    const list = failuresOf.get(f.assetId);
    if (list) list.push(f);
    else failuresOf.set(f.assetId, [f]);
  }

  const components = new Map<string, { failures: number; precededStrict: number; precededLoose: number; alertsStrict: number; falseStrict: number }>();
  const comp = (c: string) => {
    let s = components.get(c);
    if (!s) components.set(c, (s = { failures: 0, precededStrict: 0, precededLoose: 0, alertsStrict: 0, falseStrict: 0 }));
    return s;
  };

  const strictLeads: number[] = [];
  const looseLeads: number[] = [];
  const perFailure: ReplayScore['perFailure'][number][] = [];
  const scored = failures.filter((f) => inWindow(f.ts)).sort((a, b) => a.ts - b.ts || a.assetId.localeCompare(b.assetId));
  for (const f of scored) {
    const c = comp(f.component);
    c.failures += 1;
    let firstStrict = Number.POSITIVE_INFINITY;
    let firstLoose = Number.POSITIVE_INFINITY;
    for (const { alert, t } of byAsset.get(f.assetId) ?? []) {
      if (t < f.ts - h || t > f.ts - minLead || t >= f.ts) continue;
      firstLoose = Math.min(firstLoose, t);
      if (alert.scope === 'component' && alert.component === f.component) firstStrict = Math.min(firstStrict, t);
    }
    const strict = Number.isFinite(firstStrict) ? f.ts - firstStrict : null;
    const loose = Number.isFinite(firstLoose) ? f.ts - firstLoose : null;
    if (strict !== null) {
      c.precededStrict += 1;
      strictLeads.push(strict);
    }
    if (loose !== null) {
      c.precededLoose += 1;
      looseLeads.push(loose);
    }
    perFailure.push({
      assetId: f.assetId,
      component: f.component,
      at: new Date(f.ts).toISOString(),
      leadStrictH: strict === null ? null : strict / HOUR,
      leadLooseH: loose === null ? null : loose / HOUR,
    });
  }

  let strictAlerts = 0;
  let strictFalse = 0;
  let looseAlerts = 0;
  let looseFalse = 0;
  for (const { alert, t } of timed) {
    if (!inWindow(t)) continue;
    const mine = failuresOf.get(alert.assetId) ?? [];
    looseAlerts += 1;
    if (!mine.some((f) => f.ts > t && f.ts <= t + h)) looseFalse += 1;
    if (alert.scope !== 'component' || alert.component === undefined) continue;
    strictAlerts += 1;
    const c = comp(alert.component);
    c.alertsStrict += 1;
    if (!mine.some((f) => f.component === alert.component && f.ts > t && f.ts <= t + h)) {
      strictFalse += 1;
      c.falseStrict += 1;
    }
  }

  const byComponent = Object.fromEntries([...components.entries()].sort(([a], [b]) => a.localeCompare(b)));
  return {
    horizonH: h / HOUR,
    failures: scored.length,
    strict: {
      preceded: strictLeads.length,
      leadTime: leadTimes(strictLeads),
      alerts: strictAlerts,
      falseAlerts: strictFalse,
    },
    loose: {
      preceded: looseLeads.length,
      leadTime: leadTimes(looseLeads),
      alerts: looseAlerts,
      falseAlerts: looseFalse,
    },
    byComponent,
    perFailure,
  };
}
