import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TwinHealthChangedDetail } from '../../../lambdas/core/alerts/policy.ts';
import { AlertEventError, formatAlert, snsMessage } from '../../../lambdas/core/notify/format.ts';

const detail = (over: Partial<TwinHealthChangedDetail> & Record<string, unknown> = {}): TwinHealthChangedDetail =>
  ({
    version: 1,
    alertId: 'a1b2',
    assetId: 'pump-007',
    siteId: 'plant-1',
    assetModel: 'centrifugal-pump',
    scope: 'component',
    component: 'bearing',
    from: 'WARNING',
    to: 'CRITICAL',
    severity: 'critical',
    at: '2026-12-02T06:00:00.000Z',
    seq: 42,
    scores: { risk: 0.93, anomaly: 4.25, failureProbability: 0.81, rul: 36.4, rulUnit: 'hours' },
    topContributors: [
      { sensor: 'vibration_rms', share: 0.52 },
      { sensor: 'bearing_temp', share: 0.31 },
      { sensor: 'flow', share: 0.1 },
      { sensor: 'pressure', share: 0.07 },
    ],
    estimatedCostAvoidedUsd: 1200,
    ...over,
  }) as TwinHealthChangedDetail;

describe('formatAlert', () => {
  it('writes the asset, component, state change, scores, top three sensors, action and link in the email', () => {
    const f = formatAlert({ detail: detail() }, { dashboardUrl: 'https://pdm.example.com/' });

    expect(f.subject).toBe('[CRITICAL] pump-007 bearing: WARNING -> CRITICAL');
    expect(f.email).toContain('pump-007 bearing (centrifugal-pump, site plant-1) changed from WARNING to CRITICAL at 2026-12-02T06:00:00.000Z.');
    expect(f.email).toContain('Risk 93%, failure probability 81%, anomaly 4.3.');
    expect(f.email).toContain('Remaining useful life: 36.4 hours.');
    expect(f.email).toContain('Top sensors: vibration_rms 52%, bearing_temp 31%, flow 10%.');
    expect(f.email).not.toContain('pressure');
    expect(f.email).toContain('What to do: Plan an inspection');
    expect(f.email).toContain('Dashboard: https://pdm.example.com/#/asset/pump-007');
    expect(f.email).not.toMatch(/undefined|null|NaN/);
  });

  it('adds the driver and the RUL interval when the event carries them', () => {
    const f = formatAlert({ detail: detail({ drivers: [{ label: 'bearing wear' }], scores: { risk: 0.93, anomaly: 1, failureProbability: 0.8, rul: 36, rulUnit: 'hours', rulInterval: { lower: 20, upper: 55 } } as never }) });

    expect(f.email).toContain('Remaining useful life: 36.0 hours (90% interval 20.0–55.0).');
    expect(f.email).toContain('Driver: bearing wear.');
    expect(f.sms).toContain('RUL 36.0 hours [20.0–55.0]');
  });

  it('leaves out what the event does not have', () => {
    const f = formatAlert({ detail: detail({ scope: 'asset', component: undefined, scores: { risk: 0.5, anomaly: 1, failureProbability: null, rul: null, rulUnit: 'cycles' }, topContributors: [] }) });

    expect(f.subject).toBe('[CRITICAL] pump-007: WARNING -> CRITICAL');
    expect(f.email).not.toMatch(/Remaining useful life|Top sensors|failure probability|Dashboard|Driver/);
  });

  it('keeps every SMS within one 160-character segment and the subject within 100 ASCII characters', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_:-]{1,128}$/), fc.stringMatching(/^[A-Za-z0-9_:-]{1,128}$/), fc.double({ min: 0, max: 1e6, noNaN: true }), (assetId, component, rul) => {
        const f = formatAlert({ detail: detail({ assetId, component, scores: { risk: 0.9, anomaly: 2, failureProbability: 0.5, rul, rulUnit: 'cycles' } }) }, { dashboardUrl: 'https://pdm.example.com' });
        expect(f.sms.length).toBeLessThanOrEqual(160);
        expect(f.subject.length).toBeLessThanOrEqual(100);
        expect(f.subject).toMatch(/^[\x20-\x7E]+$/);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects an event without a usable detail', () => {
    expect(() => formatAlert({ detail: {} as TwinHealthChangedDetail })).toThrow(AlertEventError);
  });
});

describe('snsMessage', () => {
  it('gives email and SMS the text and every other protocol the unchanged event', () => {
    const event = { source: 'pdm.twin', 'detail-type': 'TwinHealthChanged', detail: detail() };

    const m = JSON.parse(snsMessage(event).message) as Record<string, string>;

    expect(Object.keys(m).sort()).toEqual(['default', 'email', 'sms']);
    expect(JSON.parse(m['default']!)).toEqual(event);
    expect(m['email']).toContain('changed from WARNING to CRITICAL');
    expect(m['sms']).toMatch(/^PdM CRITICAL: pump-007 bearing WARNING->CRITICAL, risk 93%/);
  });
});
