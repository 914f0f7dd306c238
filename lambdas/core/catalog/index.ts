import { ASSET_MODELS } from './models.ts';
import type { AssetModel, SensorSpec } from './types.ts';

export * from './models.ts';
export * from './types.ts';

export class UnknownAssetModelError extends Error {
  constructor(readonly modelId: string) {
    super(`unknown asset model "${modelId}"; known: ${ASSET_MODELS.map((m) => m.id).join(', ')}`);
    this.name = 'UnknownAssetModelError';
  }
}

const byId = new Map(ASSET_MODELS.map((m) => [m.id, m]));

export function findAssetModel(modelId: string): AssetModel | undefined {
  return byId.get(modelId);
}

export function getAssetModel(modelId: string): AssetModel {
  const model = byId.get(modelId);
  if (!model) throw new UnknownAssetModelError(modelId);
  return model;
}

/** Sensors that get rolling-window features, in catalog order (the order feature vectors use). */
export function featurizedSensors(model: AssetModel): string[] {
  return Object.entries(model.sensors)
    .filter(([, s]) => s.featurize !== false)
    .map(([name]) => name);
}

/** Known event codes of a model, in catalog order (the order event-count features use). */
export function eventCodes(model: AssetModel): string[] {
  return Object.keys(model.events ?? {});
}

export function flatlineThreshold(spec: SensorSpec): number | null {
  return spec.flatlineAfter === undefined ? 30 : spec.flatlineAfter;
}
