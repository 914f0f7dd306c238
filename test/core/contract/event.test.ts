import { describe, expect, it } from 'vitest';
import { contractJsonSchemas, EVENT_SCHEMA, EventMessageSchema } from '../../../lambdas/core/contract/telemetry.ts';
import { eventsTopic, parseTopic } from '../../../lambdas/core/contract/topics.ts';

const one = { ts: '2026-11-23T10:00:00Z', seq: 3, code: 'bearing_overtemp', severity: 'warning' } as const;

describe('EventMessageSchema', () => {
  it('accepts one event at the top level and a batch with optional component and message', () => {
    // Arrange
    const single = { schema: EVENT_SCHEMA, assetId: 'pump-001', ...one };
    const batch = {
      schema: EVENT_SCHEMA,
      assetId: 'pump-001',
      events: [one, { ts: 1_764_000_000_000, seq: 4, code: 'E-1043', severity: 'critical', component: 'seal', message: 'leak' }],
    };
    // Act / Assert
    expect(EventMessageSchema.safeParse(single).success).toBe(true);
    expect(EventMessageSchema.safeParse(batch).success).toBe(true);
  });

  it('rejects an unknown severity, a missing code, unknown fields, epoch seconds and an empty batch', () => {
    // Arrange
    const base = { schema: EVENT_SCHEMA, assetId: 'pump-001' };
    const bad = [
      { ...base, ...one, severity: 'fatal' },
      { ...base, ts: one.ts, seq: 1, severity: 'info' },
      { ...base, ...one, firmware: '1.2' },
      { ...base, ...one, ts: 1_764_000_000 },
      { ...base, ...one, code: ' spaced code' },
      { ...base, events: [] },
    ];
    // Act / Assert
    for (const message of bad) expect(EventMessageSchema.safeParse(message).success, JSON.stringify(message)).toBe(false);
  });

  it('is published as JSON Schema next to the telemetry and maintenance contracts', () => {
    // Act
    const schemas = contractJsonSchemas();
    // Assert
    expect(Object.keys(schemas)).toEqual(['pdm.telemetry.v1', 'pdm.maintenance.v1', 'pdm.event.v1']);
  });
});

describe('events topic', () => {
  it('round-trips and parses as the events kind', () => {
    // Act
    const topic = eventsTopic('site-a', 'pump-001');
    // Assert
    expect(topic).toBe('pdm/site-a/pump-001/events');
    expect(parseTopic(topic)).toEqual({ siteId: 'site-a', assetId: 'pump-001', kind: 'events' });
    expect(parseTopic('pdm/site-a/pump-001/event')).toBeUndefined();
  });
});
