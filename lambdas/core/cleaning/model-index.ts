import { flatlineThreshold } from '../catalog/index.ts';
import type { AssetModel, SensorSpec } from '../catalog/types.ts';

/** Per-model lookups built once: `Map` lookups are fast and immune to keys like `constructor` or `__proto__`. */
export interface ModelIndex {
  readonly sensors: ReadonlyMap<string, SensorSpec>;
  readonly components: ReadonlySet<string>;
  /** Sensors subject to the flatline check, with their threshold. */
  readonly flatline: ReadonlyMap<string, number>;
}

const cache = new WeakMap<AssetModel, ModelIndex>();

export function indexModel(model: AssetModel): ModelIndex {
  let index = cache.get(model);
  if (index === undefined) {
    const sensors = new Map<string, SensorSpec>();
    const flatline = new Map<string, number>();
    for (const name of Object.keys(model.sensors)) {
      const spec = model.sensors[name]!;
      sensors.set(name, spec);
      const threshold = flatlineThreshold(spec);
      if (threshold !== null) flatline.set(name, threshold);
    }
    index = { sensors, components: new Set(Object.keys(model.components)), flatline };
    cache.set(model, index);
  }
  return index;
}
