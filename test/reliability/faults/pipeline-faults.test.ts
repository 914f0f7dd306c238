import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaled } from '../../support/env.ts';
import { compareRuns, type Figures } from './compare.ts';
import { type FaultPlan, type RunResult, runPipeline, type Workload, workload } from './pipeline.ts';

const WORK: Workload = workload({ assets: 8, ticks: 120, seed: 5 });
const table: Record<string, Figures & { injected: number; retried: number; ms: number }> = {};
let clean: RunResult;

beforeAll(async () => {
  clean = await runPipeline(WORK, {});
}, scaled(120_000));

afterAll(() => {
  // The figures the reliability doc quotes (docs/reliability-faults.md).
  console.table(table);
});

const CASES: readonly [string, FaultPlan, (r: RunResult) => number][] = [
  ['Timestream throttling (30% of calls)', { timestreamThrottle: 0.3 }, (r) => r.faults.timestreamThrottled],
  ['SageMaker 5xx (30%) and timeouts (10%)', { sagemaker5xx: 0.3, sagemakerTimeout: 0.1 }, (r) => r.faults.sagemaker5xx + r.faults.sagemakerTimeouts],
  ['DynamoDB conditional conflicts (30% of writes)', { twinConflict: 0.3 }, (r) => r.faults.twinConflicts],
  ['handler crash mid-batch (25% of invocations)', { crashMidBatch: 0.25 }, (r) => r.faults.crashes],
  ['PutEvents entry failures (20%)', { alertFailure: 0.2 }, (r) => r.faults.alertFailures],
  [
    'all of the above together',
    { timestreamThrottle: 0.2, sagemaker5xx: 0.2, sagemakerTimeout: 0.05, twinConflict: 0.2, crashMidBatch: 0.15, alertFailure: 0.1 },
    (r) => Object.values(r.faults).reduce((a, b) => a + b, 0) - r.faults.retriedBatches - r.faults.onFailure,
  ],
];

describe('pipeline under injected faults', () => {
  it('runs the clean reference with twins for every asset, a degrading asset alerting, and no retries', () => {
    expect(clean.twins.size).toBe(WORK.fleet.length);
    expect(clean.deliveries.some((d) => d.severity !== 'info')).toBe(true);
    expect(clean.faults.retriedBatches).toBe(0);
    expect(clean.telemetry.size).toBe(WORK.records.length);
  });

  it.each(CASES)('%s: loses no reading, ends with the clean twins, delivers the clean alert set', async (name, plan, injected) => {
    // Act
    const faulty = await runPipeline(WORK, plan, 7);
    const f = compareRuns(clean, faulty);
    table[name] = { ...f, injected: injected(faulty), retried: faulty.faults.retriedBatches, ms: Math.round(faulty.ms) };

    // Assert: the fault happened, and nothing it touched shows in the outcome.
    expect(injected(faulty)).toBeGreaterThan(0);
    expect(faulty.faults.onFailure).toBe(0);
    expect(f.lostToTwins).toBe(0);
    expect(f.lostToTelemetry).toBe(0);
    expect(f.twinsDifferingIgnoringProvenance).toBe(0);
    expect(f.alertSetEqual).toBe(true);
    expect(f.alertsDuplicated).toBe(0);
  }, scaled(120_000));

  it('reports a Timestream RejectedRecords sample as rejected, and it is the only telemetry gap; twins still equal', async () => {
    // Act: 20% of telemetry calls have one record refused for a data reason (not retried by design).
    const faulty = await runPipeline(WORK, { timestreamReject: 0.2 }, 11);
    const f = compareRuns(clean, faulty);
    table['Timestream RejectedRecords (20% of calls, 1 record)'] = {
      ...f,
      injected: faulty.faults.timestreamRejected,
      retried: faulty.faults.retriedBatches,
      ms: Math.round(faulty.ms),
    };

    // Assert: every telemetry gap was reported by the clean function; feature/prediction rejections
    // are reported by the features function and do not touch telemetry.
    expect(faulty.faults.timestreamRejected).toBeGreaterThan(0);
    expect(f.lostToTelemetry).toBe(faulty.telemetryRejectedReported);
    expect(f.lostToTwins).toBe(0);
    expect(f.twinsDiffering).toBe(0);
    expect(f.alertSetEqual).toBe(true);
    expect(f.alertsDuplicated).toBe(0);
  }, scaled(120_000));
});
