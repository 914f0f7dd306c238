/**
 * The promotion gate (docs/models.md, "Promotion gate"): a challenger may replace the champion only if it
 * is not worse on the same evaluation beyond the tolerances below. Pure: (champion, challenger,
 * tolerances) → verdict, so `pdm models promote` and the AWS approval step run the same rule.
 */
import type { Evaluation, VersionRecord } from './record.ts';

/** How much worse a gated metric may get. One place; docs/models.md repeats it. */
export interface Tolerance {
  /** `lower`: smaller is better (RMSE, false alerts); `higher`: larger is better (PR-AUC, preceded). */
  readonly better: 'lower' | 'higher';
  /** Allowed worsening as a fraction of the champion's value (0.02 = 2 %). */
  readonly relative?: number;
  /** Allowed worsening in the metric's own units. */
  readonly absolute?: number;
}

/**
 * The gated metrics, by metric name (the part after `<predictor>.`), and how much worse each may get.
 * RMSE: +2 % relative (below the turbofan RUL model's seed-to-seed spread, 12.09 ± 0.31 over 10 seeds in the
 * README, so a retrain with another seed may pass);
 * PR-AUC: −0.01 absolute; preceded failures of a held-out replay: may not fall; its false alerts: +1.
 */
export const TOLERANCES: Readonly<Record<string, Tolerance>> = {
  rmse: { better: 'lower', relative: 0.02 },
  rmseHours: { better: 'lower', relative: 0.02 },
  prAuc: { better: 'higher', absolute: 0.01 },
  preceded: { better: 'higher', absolute: 0 },
  falseAlerts: { better: 'lower', absolute: 1 },
};

/** What the gate reads of a version record (`comparedWith`: a retrained challenger's champion figures). */
export type GateInput = Pick<VersionRecord, 'id' | 'assetModel' | 'evaluations' | 'comparedWith'>;

export interface GateCheck {
  /** `<predictor>.<metric>`, e.g. `rul.rmse`. */
  readonly metric: string;
  /** The evaluation both values come from, when they come from the same one. */
  readonly evaluation: string | null;
  readonly champion: number | null;
  readonly challenger: number | null;
  /** E.g. "≤ +2 %", "≥ −0.01". */
  readonly tolerance: string;
  /** The worst value the challenger may have. */
  readonly limit: number | null;
  readonly comparable: boolean;
  /** Comparable and within tolerance. Checks that are not comparable neither pass nor refuse. */
  readonly ok: boolean;
  readonly note?: string;
}

export interface GateResult {
  readonly pass: boolean;
  readonly reason: string;
  readonly checks: readonly GateCheck[];
}

function describe(t: Tolerance): string {
  const parts = [
    ...(t.relative !== undefined ? [`${+(t.relative * 100).toFixed(4)} %`] : []),
    ...(t.absolute !== undefined ? [String(t.absolute)] : []),
  ];
  const amount = parts.length === 2 ? `the larger of ${parts.join(' and ')}` : (parts[0] ?? '0');
  if (amount === '0') return t.better === 'lower' ? 'may not rise' : 'may not fall';
  return `${t.better === 'lower' ? 'may rise' : 'may fall'} at most ${amount}`;
}

/** The worst value a challenger may reach against `champion`. */
export function limitOf(champion: number, t: Tolerance): number {
  const slack = Math.max(t.relative !== undefined ? Math.abs(champion) * t.relative : 0, t.absolute ?? 0);
  return t.better === 'lower' ? champion + slack : champion - slack;
}

function find(evaluations: readonly Evaluation[], metric: string): { ev: Evaluation; value: number } | null {
  for (const ev of evaluations) {
    const value = ev.metrics[metric];
    if (value !== undefined) return { ev, value };
  }
  return null;
}

function gatedMetrics(evaluations: readonly Evaluation[], tolerances: Readonly<Record<string, Tolerance>>): string[] {
  const keys = new Set<string>();
  for (const ev of evaluations) {
    for (const key of Object.keys(ev.metrics)) {
      const name = key.slice(key.lastIndexOf('.') + 1);
      if (Object.hasOwn(tolerances, name)) keys.add(key);
    }
  }
  return [...keys].sort();
}

/**
 * Compares a challenger with the champion on every gated metric either of them has.
 * Passes when there is no champion yet, or when at least one metric is comparable (same evaluation id on
 * both sides) and every comparable metric is within its tolerance. Refuses when nothing is comparable.
 * When the ids differ and the challenger carries `comparedWith` for that evaluation (a retrain scored the
 * champion's files on the challenger's held-out rows), that figure stands in for the champion's, but
 * only while `comparedWith.version` is the champion: against another champion it is not comparable.
 */
export function gate(
  champion: GateInput | null,
  challenger: GateInput,
  tolerances: Readonly<Record<string, Tolerance>> = TOLERANCES,
): GateResult {
  if (champion === null) return { pass: true, reason: `no champion for ${challenger.assetModel} yet`, checks: [] };
  if (champion.assetModel !== challenger.assetModel) {
    return {
      pass: false,
      reason: `not comparable: ${challenger.id} is a ${challenger.assetModel} model, ${champion.id} a ${champion.assetModel} model`,
      checks: [],
    };
  }
  const keys = gatedMetrics([...champion.evaluations, ...challenger.evaluations], tolerances);
  const checks: GateCheck[] = keys.map((metric) => {
    const t = tolerances[metric.slice(metric.lastIndexOf('.') + 1)]!;
    const a = find(champion.evaluations, metric);
    const b = find(challenger.evaluations, metric);
    const base = { metric, champion: a?.value ?? null, challenger: b?.value ?? null, tolerance: describe(t) };
    const notComparable = (note: string): GateCheck => ({ ...base, evaluation: null, limit: null, comparable: false, ok: false, note });
    const judged = (championValue: number, challengerValue: number, evaluation: string, note?: string): GateCheck => {
      const limit = limitOf(championValue, t);
      const ok = t.better === 'lower' ? challengerValue <= limit : challengerValue >= limit;
      return { ...base, champion: championValue, evaluation, limit, comparable: true, ok, ...(note !== undefined ? { note } : {}) };
    };
    // A retrain measured the champion on its own held-out evaluation: compare like with like there.
    const cw = challenger.comparedWith;
    if (b && cw && cw.evaluation === b.ev.id && (!a || a.ev.id !== b.ev.id)) {
      const value = cw.metrics[metric];
      if (cw.version !== champion.id) {
        return notComparable(`${challenger.id} was compared with ${cw.version}, the champion is ${champion.id}: retrain against it`);
      }
      if (value !== undefined) return judged(value, b.value, `${b.ev.name} ${b.ev.id}`, `${champion.id} scored by the retrain`);
    }
    if (!a || !b) return notComparable(`only ${a ? champion.id : challenger.id} has it`);
    if (a.ev.id !== b.ev.id) {
      return notComparable(`measured on different evaluations (${a.ev.name} ${a.ev.id} vs ${b.ev.name} ${b.ev.id})`);
    }
    return judged(a.value, b.value, `${a.ev.name} ${a.ev.id}`);
  });
  const compared = checks.filter((c) => c.comparable);
  if (compared.length === 0) {
    const why =
      checks.length === 0
        ? 'neither version has a gated metric'
        : checks.map((c) => `${c.metric}: ${c.note}`).join('; ');
    return { pass: false, reason: `not comparable: ${why}; use --force --reason "<why>"`, checks };
  }
  const worse = compared.filter((c) => !c.ok);
  if (worse.length > 0) {
    const list = worse.map((c) => `${c.metric} ${c.challenger} vs ${c.champion} (${c.tolerance})`).join('; ');
    return { pass: false, reason: `worse than ${champion.id}: ${list}`, checks };
  }
  return {
    pass: true,
    reason: `within tolerance of ${champion.id} on ${compared.length} metric(s)${compared.length < checks.length ? `, ${checks.length - compared.length} not comparable` : ''}`,
    checks,
  };
}
