/**
 * A short simulated stream through the core, printed as it happens: the `npm start` of the pipeline
 * core, until the embedded local runtime with stand-ins and dashboard exists. Real work, in process:
 * every message is cleaned, screened, featurised, scored for anomaly and folded into its twin.
 */

import { createFleet, FleetSimulator, fleetLookup } from '../devices/fleet.ts';
import { createBundleScorer } from '../lambdas/core/model/scorer.ts';
import { readBundle } from '../ml/bundle/read.ts';
import { DEFAULT_BASELINES } from '../lambdas/core/anomaly/index.ts';
import type { AssetModel } from '../lambdas/core/catalog/types.ts';
import type { Counts } from '../lambdas/core/cleaning/index.ts';
import { addCounts, emptyCounts } from '../lambdas/core/cleaning/index.ts';
import type { RawMessage } from '../lambdas/core/pipeline.ts';
import { processMessages } from '../lambdas/core/pipeline.ts';
import type { Twin } from '../lambdas/core/twin/twin.ts';

export interface DemoOptions {
  readonly assets: number;
  readonly ticks: number;
  readonly seed: number;
  readonly samplesPerMessage: number;
  readonly faultRate: number;
  /** Score with the model bundle in layers/model (failure probability, RUL, TreeSHAP contributors). */
  readonly models: boolean;
  /** Print each transition and alert as it happens. */
  readonly verbose: boolean;
  readonly log: (line: string) => void;
}

export interface DemoSummary {
  messages: Counts['messages'];
  samples: Counts['samples'];
  readings: Counts['readings'];
  byReason: Record<string, number>;
  twins: number;
  states: Record<string, number>;
  alerts: Record<string, number>;
  transitions: number;
}

export function baselineFor(model: AssetModel) {
  const baseline = DEFAULT_BASELINES[model.id];
  if (!baseline) throw new Error(`no anomaly baseline shipped for asset model ${model.id}`);
  return baseline;
}

export function runDemo(options: DemoOptions): DemoSummary {
  const fleet = createFleet({ assets: options.assets, seed: options.seed });
  const sim = new FleetSimulator(fleet, {
    seed: options.seed,
    samplesPerMessage: options.samplesPerMessage,
    faultRate: options.faultRate,
  });
  const lookupAsset = fleetLookup(fleet);
  const scorer = options.models ? createBundleScorer(readBundle()) : undefined;
  const twins = new Map<string, Twin>();
  let counts = emptyCounts();
  const byReason: Record<string, number> = {};
  const alerts: Record<string, number> = {};
  let transitions = 0;
  let messageNo = 0;
  for (let tick = 0; tick < options.ticks; tick++) {
    const receivedAt = sim.now + 1_000;
    const batch: RawMessage[] = sim.step().map((m) => ({
      topic: m.topic,
      payload: m.payload,
      messageId: String(++messageNo),
      receivedAt,
    }));
    const result = processMessages(batch, twins, { lookupAsset, baselineFor, ...(scorer ? { scorer } : {}) });
    for (const [id, twin] of result.twins) twins.set(id, twin);
    counts = addCounts(counts, result.counts);
    for (const q of result.quarantine) byReason[q.reason] = (byReason[q.reason] ?? 0) + 1;
    transitions += result.transitions.length;
    for (const alert of result.alerts) {
      alerts[alert.severity] = (alerts[alert.severity] ?? 0) + 1;
      if (options.verbose && alert.severity !== 'info') {
        const who = alert.scope === 'component' ? `${alert.assetId}/${alert.component}` : alert.assetId;
        const top = alert.topContributors.map((c) => `${c.sensor} ${(c.share * 100).toFixed(0)}%`).join(', ');
        options.log(
          `${alert.at}  ALERT ${alert.severity.toUpperCase().padEnd(8)} ${who.padEnd(22)} ${alert.from} → ${alert.to}` +
            `  risk ${alert.scores.risk.toFixed(2)}  top: ${top || '-'}  est. saving $${alert.estimatedCostAvoidedUsd}`,
        );
      }
    }
    if (options.verbose) {
      for (const t of result.transitions) {
        if (t.to !== 'MAINTENANCE') continue;
        const who = t.scope === 'component' ? `${t.assetId}/${t.component}` : t.assetId;
        options.log(`${new Date(sim.now).toISOString()}  MAINT ${'replaced'.padEnd(9)} ${who.padEnd(22)} ${t.from} → MAINTENANCE`);
      }
    }
  }
  const states: Record<string, number> = {};
  for (const twin of twins.values()) states[twin.health.state] = (states[twin.health.state] ?? 0) + 1;
  return { ...counts, byReason, twins: twins.size, states, alerts, transitions };
}
