import { describe, expect, it } from 'vitest';
import {
  defaultAlertPolicy,
  estimateCostAvoided,
  severityOf,
  shouldEmit,
} from '../../../lambdas/core/alerts/policy.ts';

describe('severityOf', () => {
  it('maps CRITICAL and WARNING to their severities and everything else to info', () => {
    expect(
      ['CRITICAL', 'WARNING', 'WATCH', 'NORMAL', 'MAINTENANCE'].map((s) => severityOf(s as never)),
    ).toEqual(['critical', 'warning', 'info', 'info', 'info']);
  });
});

describe('estimateCostAvoided', () => {
  const policy = defaultAlertPolicy('time', 1_000);

  it('values a certain failure with enough lead time at the full downtime difference', () => {
    // (24 h unplanned − 4 h planned) × $1,000/h.
    expect(estimateCostAvoided(policy, { failureProbability: 1, rul: 72 * 3_600_000 })).toBe(20_000);
  });

  it('scales with probability and with the share of the required lead time available', () => {
    expect(estimateCostAvoided(policy, { failureProbability: 0.5, rul: 24 * 3_600_000 })).toBe(5_000);
    expect(estimateCostAvoided(policy, { failureProbability: 0.5, rul: null })).toBe(10_000);
  });

  it('converts cycles to hours for cycle clocks', () => {
    const cycles = defaultAlertPolicy('cycle', 1_000, { hoursPerClockUnit: 2 });
    expect(estimateCostAvoided(cycles, { failureProbability: 1, rul: 12 })).toBe(10_000);
  });
});

describe('shouldEmit', () => {
  it('suppresses the same change within the cooldown and allows it after', () => {
    const policy = defaultAlertPolicy('cycle', 1, { cooldown: 10 });
    const ledger = {};
    expect(shouldEmit(ledger, 'asset', 'WARNING', 100, policy)).toBe(true);
    expect(shouldEmit(ledger, 'asset', 'WARNING', 105, policy)).toBe(false);
    expect(shouldEmit(ledger, 'asset', 'CRITICAL', 105, policy)).toBe(true);
    expect(shouldEmit(ledger, 'component:fan', 'WARNING', 105, policy)).toBe(true);
    expect(shouldEmit(ledger, 'asset', 'WARNING', 110, policy)).toBe(true);
  });

  it('drops info changes when info events are off', () => {
    const policy = defaultAlertPolicy('time', 1, { emitInfo: false });
    expect(shouldEmit({}, 'asset', 'WATCH', 0, policy)).toBe(false);
    expect(shouldEmit({}, 'asset', 'WARNING', 0, policy)).toBe(true);
  });
});
