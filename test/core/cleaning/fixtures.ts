/** Shared inputs for the cleaning tests: a small asset registry and message builders. */
import type { AssetInfo, AssetLookup } from '../../../lambdas/core/catalog/index.ts';
import type { CleaningContext, RawMessage } from '../../../lambdas/core/cleaning/index.ts';

export const RECEIVED_AT = Date.parse('2024-05-01T12:00:00Z');
export const ONE_MINUTE_AGO = RECEIVED_AT - 60_000;

const REGISTRY: Record<string, AssetInfo> = {
  'pump-1': { assetId: 'pump-1', siteId: 'site-a', modelId: 'centrifugal-pump' },
  'engine-7': { assetId: 'engine-7', siteId: 'site-b', modelId: 'turbofan' },
  'ghost-1': { assetId: 'ghost-1', siteId: 'site-a', modelId: 'no-such-model' },
};

export const lookupAsset: AssetLookup = (assetId) => {
  if (assetId === 'explode') throw new Error('registry unavailable');
  return Object.hasOwn(REGISTRY, assetId) ? REGISTRY[assetId] : undefined;
};

export const ctx: CleaningContext = { lookupAsset };

export const PUMP_TOPIC = 'pdm/site-a/pump-1/telemetry';
export const PUMP_MAINTENANCE_TOPIC = 'pdm/site-a/pump-1/maintenance';

/** Six in-range pump readings. */
export function pumpReadings(): Record<string, unknown> {
  return { temperature: 61.5, vibration: 3.2, pressure: 12.1, flow: 240, rpm: 2950, current: 88.4 };
}

export function pumpSample(seq: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ts: ONE_MINUTE_AGO + seq, seq, readings: pumpReadings(), ...extra };
}

export function single(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { schema: 'pdm.telemetry.v1', assetId: 'pump-1', ...pumpSample(1), ...extra };
}

export function batch(samples: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { schema: 'pdm.telemetry.v1', assetId: 'pump-1', samples, ...extra };
}

export function message(body: unknown, topic = PUMP_TOPIC, messageId = 'm-1'): RawMessage {
  return {
    topic,
    payload: typeof body === 'string' ? body : JSON.stringify(body),
    messageId,
    receivedAt: RECEIVED_AT,
  };
}
