/**
 * MQTT topic contract: `pdm/{siteId}/{assetId}/telemetry`, `pdm/{siteId}/{assetId}/maintenance` and
 * `pdm/{siteId}/{assetId}/events`.
 */
import { IdSchema } from './telemetry.ts';

export const TOPIC_PREFIX = 'pdm';
export const TOPIC_KINDS = ['telemetry', 'maintenance', 'events'] as const;
/** Every kind of device topic. */
export type DeviceTopicKind = (typeof TOPIC_KINDS)[number];
/**
 * The kinds the CDK ingest stack has topic rules for today. The events rule lands in lib/ separately;
 * until then this stays narrower than {@link DeviceTopicKind} so lib's per-kind records stay complete.
 */
export type TopicKind = Exclude<DeviceTopicKind, 'events'>;

export interface ParsedTopic {
  readonly siteId: string;
  readonly assetId: string;
  readonly kind: DeviceTopicKind;
}

export function telemetryTopic(siteId: string, assetId: string): string {
  return `${TOPIC_PREFIX}/${siteId}/${assetId}/telemetry`;
}

export function maintenanceTopic(siteId: string, assetId: string): string {
  return `${TOPIC_PREFIX}/${siteId}/${assetId}/maintenance`;
}

export function eventsTopic(siteId: string, assetId: string): string {
  return `${TOPIC_PREFIX}/${siteId}/${assetId}/events`;
}

/** Returns the parsed topic, or `undefined` when the topic is not one of ours. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== TOPIC_PREFIX) return undefined;
  const [, siteId, assetId, kind] = parts as [string, string, string, string];
  if (kind !== 'telemetry' && kind !== 'maintenance' && kind !== 'events') return undefined;
  if (!IdSchema.safeParse(siteId).success || !IdSchema.safeParse(assetId).success) return undefined;
  return { siteId, assetId, kind };
}
