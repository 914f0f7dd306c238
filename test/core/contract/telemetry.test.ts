import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  contractJsonSchemas,
  MaintenanceMessageSchema,
  TelemetryMessageSchema,
  toEpochMs,
} from '../../../lambdas/core/contract/telemetry.ts';
import { maintenanceTopic, parseTopic, telemetryTopic } from '../../../lambdas/core/contract/topics.ts';

const single = {
  schema: 'pdm.telemetry.v1',
  assetId: 'pump-001',
  ts: '2026-11-23T10:00:00Z',
  seq: 7,
  readings: { temperature: 61.5, vibration: 2.1 },
};

describe('TelemetryMessageSchema', () => {
  it('accepts the single-sample form with an ISO timestamp', () => {
    expect(TelemetryMessageSchema.safeParse(single).success).toBe(true);
  });

  it('accepts the batched form with epoch-ms and offset timestamps', () => {
    const batch = {
      schema: 'pdm.telemetry.v1',
      assetId: 'pump-001',
      samples: [
        { ts: 1_763_892_000_000, seq: 1, readings: { flow: 120 } },
        { ts: '2026-11-23T11:00:00.250+02:00', seq: 2, readings: { flow: 121 }, component: 'impeller' },
      ],
    };
    expect(TelemetryMessageSchema.safeParse(batch).success).toBe(true);
  });

  it('rejects epoch seconds, unknown fields, non-integer seq and string readings', () => {
    expect(TelemetryMessageSchema.safeParse({ ...single, ts: 1_763_892_000 }).success).toBe(false);
    expect(TelemetryMessageSchema.safeParse({ ...single, extra: 1 }).success).toBe(false);
    expect(TelemetryMessageSchema.safeParse({ ...single, seq: 1.5 }).success).toBe(false);
    expect(TelemetryMessageSchema.safeParse({ ...single, readings: { t: '1' } }).success).toBe(false);
  });

  it('rejects asset ids that cannot be MQTT topic levels or thing names', () => {
    for (const assetId of ['', 'a/b', 'a+b', '#', 'x'.repeat(129), "a'; DROP TABLE"]) {
      expect(TelemetryMessageSchema.safeParse({ ...single, assetId }).success).toBe(false);
    }
  });

  it('converts both timestamp forms to the same epoch milliseconds', () => {
    expect(toEpochMs('2026-11-23T10:00:00.000Z')).toBe(toEpochMs(Date.UTC(2026, 10, 23, 10)));
    expect(toEpochMs('2026-11-23T12:00:00+02:00')).toBe(Date.UTC(2026, 10, 23, 10));
  });
});

describe('MaintenanceMessageSchema', () => {
  it('accepts a component replacement and rejects an unknown kind', () => {
    const event = {
      schema: 'pdm.maintenance.v1',
      assetId: 'm-1',
      ts: 1_763_892_000_000,
      kind: 'replacement',
      component: 'comp2',
    };
    expect(MaintenanceMessageSchema.safeParse(event).success).toBe(true);
    expect(MaintenanceMessageSchema.safeParse({ ...event, kind: 'prayer' }).success).toBe(false);
  });
});

describe('topics', () => {
  it('round-trips telemetry and maintenance topics', () => {
    expect(parseTopic(telemetryTopic('site-a', 'pump-1'))).toEqual({
      siteId: 'site-a',
      assetId: 'pump-1',
      kind: 'telemetry',
    });
    expect(parseTopic(maintenanceTopic('s', 'a'))).toEqual({
      siteId: 's',
      assetId: 'a',
      kind: 'maintenance',
    });
  });

  it('rejects foreign, short, long and wildcard topics', () => {
    for (const topic of [
      'dt/s/a/telemetry',
      'pdm/s/telemetry',
      'pdm/s/a/b/telemetry',
      'pdm/+/a/telemetry',
      'pdm/s/a/status',
    ]) {
      expect(parseTopic(topic)).toBeUndefined();
    }
  });
});

describe('schemas/ JSON Schema files', () => {
  it('equal what the zod definitions generate (run `npx pdm schema --write` after changing a contract)', () => {
    for (const [name, schema] of Object.entries(contractJsonSchemas())) {
      const file = join(import.meta.dirname, '../../../schemas', `${name}.schema.json`);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(schema);
    }
  });
});
