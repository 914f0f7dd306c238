import { describe, expect, it } from 'vitest';
import {
  ASSET_MODELS,
  featurizedSensors,
  getAssetModel,
  UnknownAssetModelError,
} from '../../../lambdas/core/catalog/index.ts';

describe('asset model catalog', () => {
  it('ships the turbofan, centrifugal pump and industrial machine', () => {
    expect(ASSET_MODELS.map((m) => m.id)).toEqual(['turbofan', 'centrifugal-pump', 'industrial-machine']);
  });

  it.each(ASSET_MODELS.map((m) => [m.id, m] as const))(
    '%s has consistent sensors and components',
    (_, model) => {
      for (const [name, sensor] of Object.entries(model.sensors)) {
        expect(sensor.min, name).toBeLessThan(sensor.max);
        expect(sensor.unit.length, name).toBeGreaterThan(0);
        for (const c of sensor.components)
          expect(Object.keys(model.components), `${name} → ${c}`).toContain(c);
      }
      for (const component of Object.keys(model.components)) {
        const observed = Object.values(model.sensors).some((s) => s.components.includes(component));
        expect(observed, `${component} is observed by a sensor`).toBe(true);
      }
      expect(model.windows.short).toBeLessThan(model.windows.medium);
      expect(model.windows.medium).toBeLessThan(model.windows.long);
    },
  );

  it('uses the C-MAPSS sensors for the turbofan, with the 14 informative ones featurised', () => {
    const turbofan = getAssetModel('turbofan');
    expect(Object.keys(turbofan.sensors)).toHaveLength(24);
    expect(featurizedSensors(turbofan)).toEqual([
      'T24',
      'T30',
      'T50',
      'P30',
      'Nf',
      'Nc',
      'Ps30',
      'phi',
      'NRf',
      'NRc',
      'BPR',
      'htBleed',
      'W31',
      'W32',
    ]);
    expect(turbofan.clock).toBe('cycle');
  });

  it('gives the industrial machine the Azure PdM sensors and components', () => {
    const machine = getAssetModel('industrial-machine');
    expect(Object.keys(machine.sensors)).toEqual(['volt', 'rotate', 'pressure', 'vibration']);
    expect(Object.keys(machine.components)).toEqual(['comp1', 'comp2', 'comp3', 'comp4']);
  });

  it('throws a named error for an unknown model', () => {
    expect(() => getAssetModel('toaster')).toThrow(UnknownAssetModelError);
  });
});
