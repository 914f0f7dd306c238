/**
 * Device topics of the cloud ingress and their two wire forms. Pure (no CDK, no AWS): the ingest stack,
 * `pdm devices`, `pdm simulate` and `pdm smoke` all derive rule names and publish topics from here, so a
 * device and the rule it must reach can never disagree.
 *
 * Basic Ingest: a device publishes to `$aws/rules/<ruleName>/<topic>` and the message goes straight to
 * that rule, without the broker (no messaging charge). Per the IoT SQL reference, `topic(n)` does not
 * see the `$aws/rules/<ruleName>/` prefix: for `$aws/rules/BuildingManager/Buildings/Building5/Floor2/…`,
 * `topic(3)` is `Floor2` (https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html,
 * topic(Decimal); https://docs.aws.amazon.com/iot/latest/developerguide/iot-basic-ingest.html). The docs
 * do not say what `topic()` without an argument returns under Basic Ingest, so the rules rebuild the topic
 * from its levels instead of relying on it.
 */

/** First level of every device topic. */
export const DEVICE_TOPIC_PREFIX = 'pdm';

/** One device topic routed into the raw stream: `pdm/{siteId}/{assetId}/{segment}`. */
export interface IngestTopic {
  /** Construct id part, e.g. `Telemetry`. */
  readonly id: string;
  /** Last topic level. */
  readonly segment: string;
  /** Contract the payload follows. */
  readonly contract: string;
}

/** The topics a device may publish, each with its own rule. `events` carries `pdm.event.v1`. */
export const INGEST_TOPICS: readonly IngestTopic[] = [
  { id: 'Telemetry', segment: 'telemetry', contract: 'pdm.telemetry.v1' },
  { id: 'Maintenance', segment: 'maintenance', contract: 'pdm.maintenance.v1' },
  { id: 'Events', segment: 'events', contract: 'pdm.event.v1' },
];

export class IngestTopicError extends Error {
  override readonly name: string = 'IngestTopicError';
}

/** Rule names allow only `[a-zA-Z0-9_]`, so the stage's hyphens become underscores. */
export function topicRuleName(stage: string, segment: string): string {
  return `pdm_${stage.replace(/-/g, '_')}_${segment}`;
}

/** `$aws/rules/<ruleName>/`: the Basic Ingest prefix of one rule. */
export function basicIngestPrefix(stage: string, segment: string): string {
  return `$aws/rules/${topicRuleName(stage, segment)}/`;
}

/**
 * The topic a device publishes `topic` (`pdm/{site}/{asset}/{segment}`) to: itself through the broker,
 * or behind its rule's Basic Ingest prefix.
 * @throws IngestTopicError for a topic that is not one of {@link INGEST_TOPICS}.
 */
export function wireTopic(topic: string, opts: { readonly stage: string; readonly basicIngest: boolean }): string {
  const levels = topic.split('/');
  const segment = levels[3];
  if (levels.length !== 4 || levels[0] !== DEVICE_TOPIC_PREFIX || !INGEST_TOPICS.some((t) => t.segment === segment)) {
    throw new IngestTopicError(`"${topic}" is not a device topic (${DEVICE_TOPIC_PREFIX}/{siteId}/{assetId}/{${INGEST_TOPICS.map((t) => t.segment).join('|')}})`);
  }
  return opts.basicIngest ? `${basicIngestPrefix(opts.stage, segment!)}${topic}` : topic;
}

/**
 * What IoT SQL's `topic(n)` returns for a message published to `wire` (1-based; `undefined` past the
 * last level), with the Basic Ingest prefix removed first as the SQL reference documents. Lets tests
 * evaluate the rules' topic expressions for both wire forms.
 */
export function sqlTopicLevel(wire: string, n: number): string | undefined {
  const basic = /^\$aws\/rules\/[A-Za-z0-9_]+\/(.*)$/.exec(wire);
  const topic = basic ? basic[1]! : wire;
  return topic.split('/')[n - 1];
}
