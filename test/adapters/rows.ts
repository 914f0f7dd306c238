/** Realistic feature rows: a degrading pump from the fleet simulator, cleaned and featurised by the core. */
import { createFleet, FleetSimulator, fleetLookup } from '../../devices/fleet.ts';
import { DEFAULT_BASELINES } from '../../lambdas/core/anomaly/index.ts';
import { getAssetModel } from '../../lambdas/core/catalog/index.ts';
import { cleanMessage } from '../../lambdas/core/cleaning/clean.ts';
import { type PreparedBatch, prepareBatch, type TwinInput } from '../../lambdas/core/twin/twin.ts';

export function pumpBatch(ticks = 80): PreparedBatch {
  const fleet = createFleet({ assets: 1, models: ['centrifugal-pump'], failingShare: 1, seed: 3 });
  const sim = new FleetSimulator(fleet, { seed: 3 });
  const lookup = fleetLookup(fleet);
  const inputs: TwinInput[] = [];
  for (let t = 0; t < ticks; t++) {
    const receivedAt = sim.now + 1000;
    for (const m of sim.step()) {
      const res = cleanMessage({ ...m, messageId: `m${t}`, receivedAt }, { lookupAsset: lookup });
      for (const sample of res.samples) inputs.push({ kind: 'sample', sample });
    }
  }
  const model = getAssetModel('centrifugal-pump');
  return prepareBatch(undefined, inputs, { asset: fleet[0]!, model, baseline: DEFAULT_BASELINES[model.id]!, vectors: true });
}
