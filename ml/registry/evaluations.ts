/**
 * Which evaluation produced each metric a trainer wrote into the manifest, and its id. The trainers
 * record metrics per predictor without saying on what data; this is where that knowledge lives, one
 * protocol per asset model and metric (docs/models.md, "Promotion gate"). An evaluation's id hashes
 * everything that decides which rows were scored and how (data hash, split, horizon, cap, protocol), so
 * two versions' figures are compared only when they were measured the same way on the same rows.
 *
 * No I/O: the AWS promotion step derives the same ids from the same manifest entries.
 */
import { createHash } from 'node:crypto';
import type { Evaluation } from './record.ts';

/** The manifest fields this module reads; everything else in an entry is ignored. */
export interface EntryPredictor {
  readonly name: string;
  readonly kind?: string;
  readonly component?: string;
  readonly horizon?: number;
  readonly rulCap?: number;
  readonly metrics?: Readonly<Record<string, number>>;
  readonly trainingDataHash?: string;
  readonly trainingData?: string;
  readonly trainingRows?: number;
  readonly params?: Readonly<Record<string, number | string>>;
}

interface Protocol {
  readonly name: string;
  readonly kind: Evaluation['kind'];
  readonly description: string;
  /** The parts of the protocol that decide the scored rows, hashed into the id. */
  readonly key: Readonly<Record<string, unknown>>;
}

/** Assigns one predictor's metric to its protocol; null falls through to the generic rule. */
type Classifier = (p: EntryPredictor, metric: string) => Protocol | null;

const PROTOCOLS: Readonly<Record<string, Classifier>> = {
  // ml/train/turbofan.ts: the RUL test metrics follow the standard protocol on the files the data set holds
  // out (last cycle of each test engine, truth capped at 125), whatever the seed; validRmse and the failure
  // classifier's figures are on a seeded 20 % of the training engines.
  turbofan: (p, metric) => {
    if (p.kind === 'rul' && ['rmse', 'nasaScore', 'rmseUncapped'].includes(metric)) {
      return {
        name: 'cmapss-fd001-test',
        kind: 'held-out',
        description: 'C-MAPSS FD001 test engines (test_FD001 + RUL_FD001), last cycle per engine, truth capped at rulCap',
        key: { data: p.trainingDataHash, rulCap: p.rulCap, protocol: 'last-cycle' },
      };
    }
    return {
      name: 'cmapss-fd001-valid-engines',
      kind: 'validation',
      description: `a seeded ${p.params?.validFraction ?? 0.2} of the FD001 training engines (seed ${p.params?.seed ?? '?'})`,
      key: { data: p.trainingDataHash, seed: p.params?.seed, validFraction: p.params?.validFraction, horizon: p.horizon, rulCap: p.rulCap },
    };
  },
  // ml/train/pump.ts: pumps split 60/20/20 by the seed; every metric is on the test pumps. The data hash
  // covers the seed, the fleet size and the stride, so it fixes the test pumps.
  'centrifugal-pump': (p) => ({
    name: 'pump-test-pumps',
    kind: 'held-out',
    description: 'the 20 % test pumps of the simulated fleet (split by the seed the data hash covers)',
    key: { data: p.trainingDataHash, horizon: p.horizon, rulCap: p.rulCap },
  }),
  // ml/train/industrial-machine.ts: out-of-fold predictions over forward-chaining 14-day folds inside the
  // training period; the data hash fixes the period and so the folds.
  'industrial-machine': (p) => ({
    name: 'azure-out-of-fold',
    kind: 'validation',
    description: 'Azure PdM out-of-fold hours: forward-chaining 14-day folds inside the training period',
    key: { data: p.trainingDataHash, horizon: p.horizon, component: p.component, folds: '14d-forward-chaining' },
  }),
};

/** Metrics no protocol claims: comparable only between versions trained on the same data. */
function generic(p: EntryPredictor, metric: string): Protocol {
  const validation = /^valid/.test(metric);
  return {
    name: validation ? 'validation' : 'reported',
    kind: validation ? 'validation' : 'held-out',
    description: 'as the trainer reports it; protocol not known to the registry',
    key: { data: p.trainingDataHash, horizon: p.horizon, rulCap: p.rulCap, component: p.component },
  };
}

/** Canonical JSON: keys sorted, undefined dropped, so equal descriptions hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The evaluation id of a protocol description. */
export function evaluationId(assetModel: string, name: string, key: Readonly<Record<string, unknown>>): string {
  const digest = createHash('sha256').update(canonicalJson({ assetModel, name, key })).digest('hex');
  return `ev-${digest.slice(0, 16)}`;
}

/**
 * Groups an asset model's manifest metrics into evaluations (`<predictor>.<metric>` keys). Predictors
 * measured under the same protocol on the same rows share one evaluation.
 * @param extra evaluations measured outside the trainer (a held-out replay), appended as they are.
 */
export function evaluationsOf(
  assetModel: string,
  predictors: readonly EntryPredictor[],
  extra: readonly Evaluation[] = [],
): Evaluation[] {
  const byId = new Map<string, Evaluation>();
  const classify = PROTOCOLS[assetModel];
  for (const p of predictors) {
    for (const [metric, value] of Object.entries(p.metrics ?? {})) {
      const protocol = classify?.(p, metric) ?? generic(p, metric);
      const id = evaluationId(assetModel, protocol.name, protocol.key);
      const ev = byId.get(id) ?? { id, name: protocol.name, kind: protocol.kind, description: protocol.description, metrics: {} };
      ev.metrics[`${p.name}.${metric}`] = value;
      byId.set(id, ev);
    }
  }
  return [...byId.values(), ...extra];
}
