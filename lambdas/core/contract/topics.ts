/** MQTT topic contract: `pdm/{siteId}/{assetId}/telemetry` and `pdm/{siteId}/{assetId}/maintenance`. */
import { IdSchema } from './telemetry.ts';

export const TOPIC_PREFIX = 'pdm';
export type TopicKind = 'telemetry' | 'maintenance';

export interface ParsedTopic {
  readonly siteId: string;
  readonly assetId: string;
  readonly kind: TopicKind;
}

export function telemetryTopic(siteId: string, assetId: string): string {
  return `${TOPIC_PREFIX}/${siteId}/${assetId}/telemetry`;
}

export function maintenanceTopic(siteId: string, assetId: string): string {
  return `${TOPIC_PREFIX}/${siteId}/${assetId}/maintenance`;
}

/** Returns the parsed topic, or `undefined` when the topic is not one of ours. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== TOPIC_PREFIX) return undefined;
  const [, siteId, assetId, kind] = parts as [string, string, string, string];
  if (kind !== 'telemetry' && kind !== 'maintenance') return undefined;
  if (!IdSchema.safeParse(siteId).success || !IdSchema.safeParse(assetId).success) return undefined;
  return { siteId, assetId, kind };
}
