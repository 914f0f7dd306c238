/** Loaders for the benchmark data used to fit and evaluate anomaly baselines (read-only, under ../shared/data). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `/work/shared/data` relative to the project root, as the tests expect. */
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

const parseUtc = (s: string) => Date.parse(`${s.trim().replace(' ', 'T')}Z`);

/** Hourly telemetry, sorted by machine then time. */
export function loadAzureTelemetry(path = AZURE_TELEMETRY): AzureHour[] {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const out: AzureHour[] = [];
  for (const line of lines.slice(1)) {
    const [dt, id, volt, rotate, pressure, vibration] = line.split(',');
    out.push({
      machineId: Number(id),
      ts: parseUtc(dt!),
      readings: {
        volt: Number(volt),
        rotate: Number(rotate),
        pressure: Number(pressure),
        vibration: Number(vibration),
      },
    });
  }
  return out.sort((a, b) => a.machineId - b.machineId || a.ts - b.ts);
}

export function loadAzureFailures(path = AZURE_FAILURES): AzureFailure[] {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  return lines.slice(1).map((line) => {
    const [dt, id, comp] = line.split(',');
    return { machineId: Number(id), ts: parseUtc(dt!), component: comp!.trim() };
  });
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

/** C-MAPSS column order of the 3 settings and 21 sensors, in catalog names. */
export const CMAPSS_COLUMNS = [
  'altitude',
  'mach',
  'tra',
  'T2',
  'T24',
  'T30',
  'T50',
  'P2',
  'P15',
  'P30',
  'Nf',
  'Nc',
  'epr',
  'Ps30',
  'phi',
  'NRf',
  'NRc',
  'BPR',
  'farB',
  'htBleed',
  'Nf_dmd',
  'PCNfR_dmd',
  'W31',
  'W32',
] as const;

export interface CmapssCycle {
  unit: number;
  cycle: number;
  /** Cycles of this engine's run (its last cycle is the failure). */
  lastCycle: number;
  readings: Record<string, number>;
}

/** A C-MAPSS train file (26 space-separated columns), sorted by unit then cycle. */
export function loadCmapss(path = CMAPSS_FD001): CmapssCycle[] {
  const rows = readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number));
  const last = new Map<number, number>();
  for (const r of rows) last.set(r[0]!, Math.max(last.get(r[0]!) ?? 0, r[1]!));
  return rows
    .map((r) => {
      const readings: Record<string, number> = {};
      CMAPSS_COLUMNS.forEach((name, i) => {
        readings[name] = r[2 + i]!;
      });
      return { unit: r[0]!, cycle: r[1]!, lastCycle: last.get(r[0]!)!, readings };
    })
    .sort((a, b) => a.unit - b.unit || a.cycle - b.cycle);
}
