/** Loaders for the benchmark data used to fit and evaluate anomaly baselines (read-only, under ../shared/data). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseFailures, parseTelemetry } from '../datasets/azure.ts';
import { CMAPSS_VALUE_COLUMNS, readCmapss } from '../datasets/cmapss.ts';

/** `../shared/data` relative to the project root, as the tests expect. */
export const DATA_DIR = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
export const AZURE_TELEMETRY = `${DATA_DIR}azure_pdm/PdM_telemetry_machines001-020_2015-01-01_to_2015-04-01.csv`;
export const AZURE_FAILURES = `${DATA_DIR}azure_pdm/PdM_failures.csv`;
export const CMAPSS_FD001 = `${DATA_DIR}cmapss/train_FD001.txt`;

const HOUR = 3_600_000;

export interface AzureHour {
  machineId: number;
  /** Epoch ms (UTC). */
  ts: number;
  readings: Record<string, number>;
}

export interface AzureFailure {
  machineId: number;
  ts: number;
  component: string;
}

/** Hourly telemetry, sorted by machine then time (parsed by the data-set module the models use). */
export function loadAzureTelemetry(path = AZURE_TELEMETRY): AzureHour[] {
  return parseTelemetry(readFileSync(path, 'utf8'))
    .map((r) => ({ machineId: r.machineId, ts: r.ts, readings: { ...r.readings } }))
    .sort((a, b) => a.machineId - b.machineId || a.ts - b.ts);
}

export function loadAzureFailures(path = AZURE_FAILURES): AzureFailure[] {
  return parseFailures(readFileSync(path, 'utf8')).map((e) => ({ machineId: e.machineId, ts: e.ts, component: e.what }));
}

/**
 * Labels every telemetry hour: `failing` is the component failing within the next 24 h (the hour of the
 * failure itself excluded), `healthy` is true when no failure of that machine follows within `healthyGapH`.
 */
export function labelAzure(
  hours: readonly AzureHour[],
  failures: readonly AzureFailure[],
  healthyGapH = 7 * 24,
): Array<{ failing: string | null; healthy: boolean }> {
  const byMachine = new Map<number, AzureFailure[]>();
  for (const f of failures) {
    const list = byMachine.get(f.machineId) ?? [];
    list.push(f);
    byMachine.set(f.machineId, list);
  }
  return hours.map((h) => {
    let failing: string | null = null;
    let healthy = true;
    for (const f of byMachine.get(h.machineId) ?? []) {
      const ahead = f.ts - h.ts;
      if (ahead > 0 && ahead <= 24 * HOUR) failing = f.component;
      if (ahead >= 0 && ahead <= healthyGapH * HOUR) healthy = false;
    }
    return { failing, healthy };
  });
}

export interface CmapssCycle {
  unit: number;
  cycle: number;
  /** Cycles of this engine's run (its last cycle is the failure). */
  lastCycle: number;
  readings: Record<string, number>;
}

/** A C-MAPSS train file, one entry per cycle, sorted by unit then cycle. */
export function loadCmapss(path = CMAPSS_FD001): CmapssCycle[] {
  const out: CmapssCycle[] = [];
  const width = CMAPSS_VALUE_COLUMNS.length;
  for (const engine of readCmapss(path).engines) {
    const lastCycle = engine.cycles[engine.cycles.length - 1]!;
    engine.cycles.forEach((cycle, k) => {
      const readings: Record<string, number> = {};
      CMAPSS_VALUE_COLUMNS.forEach((name, i) => {
        readings[name] = engine.values[k * width + i]!;
      });
      out.push({ unit: engine.unit, cycle, lastCycle, readings });
    });
  }
  return out.sort((a, b) => a.unit - b.unit || a.cycle - b.cycle);
}
