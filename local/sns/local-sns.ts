/**
 * The local SNS: topics by name, subscriptions with SNS filter policies, and three outputs per
 * delivered message: a concise console line, a JSON line appended to a file, and an optional webhook
 * POST in SNS's HTTP notification format. Output failures are logged and counted; `publish` never
 * rejects because of them (it rejects only for a malformed attribute, as SNS Publish would).
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MessageAttributes } from './attributes.ts';
import {
  attributesForMatching,
  type CompiledFilterPolicy,
  compileFilterPolicy,
  type FilterPolicy,
  type FilterPolicyScope,
} from './filter-policy.ts';
import { postNotification, type SnsHttpNotification, type WebhookOptions } from './webhook.ts';

/** Topic names used by the alert routes; any other name works too. */
export type LocalTopic = 'critical' | 'warning' | (string & {});

export interface LocalSubscription {
  readonly topic: LocalTopic;
  /** Name in console lines, JSONL records and the webhook's subscription ARN. @default `<topic>-<index>` */
  readonly id?: string;
  /** Without a policy the subscription receives every message of its topic. */
  readonly filterPolicy?: FilterPolicy;
  /** @default 'MessageAttributes' (as on SNS) */
  readonly filterPolicyScope?: FilterPolicyScope;
}

export interface LocalSnsOptions {
  /** Appends one JSON line per delivery (and per `log` call). Parent folders are created. @default no file */
  readonly jsonlPath?: string;
  /** POSTs each delivery here in SNS's HTTP notification format. @default no webhook */
  readonly webhookUrl?: string;
  /** Per-attempt timeout and retries of the webhook. @default { timeoutMs: 2000, retry: { attempts: 3 } } */
  readonly webhook?: WebhookOptions;
  /** Console output, one concise line per delivery. @default console.log */
  readonly print?: (line: string) => void;
  /** Failures of the file or the webhook. @default one line on stderr */
  readonly onError?: (message: string) => void;
  /**
   * Subscriptions, each delivering to every configured output. Policies are validated here
   * (`InvalidFilterPolicyError`). @default one unfiltered subscription per topic, created on first publish
   */
  readonly subscriptions?: readonly LocalSubscription[];
  /** Region in topic ARNs. @default 'us-east-1' */
  readonly region?: string;
  /** Clock for timestamps, injectable for tests. @default () => new Date() */
  readonly now?: () => Date;
}

export interface PublishResult {
  readonly messageId: string;
  /** Ids of the subscriptions whose filter accepted the message. */
  readonly deliveredTo: readonly string[];
}

export interface LocalSnsStats {
  readonly published: number;
  /** Subscription deliveries (a message to two matching subscriptions counts twice). */
  readonly delivered: number;
  /** Subscriptions whose filter policy rejected a message. */
  readonly filteredOut: number;
  readonly webhookSent: number;
  readonly webhookFailed: number;
  readonly fileErrors: number;
}

export interface LocalSns {
  /** Publishes to a topic; resolves once every output has been attempted. @throws InvalidMessageAttributeError */
  publish(topic: LocalTopic, message: string, attributes?: MessageAttributes): Promise<PublishResult>;
  /** Writes a record to the console and the JSONL file only (no topic, no webhook): the transitions log. */
  log(kind: string, record: Readonly<Record<string, unknown>>, line: string): Promise<void>;
  topicArn(topic: LocalTopic): string;
  readonly stats: LocalSnsStats;
  /** Waits for pending file writes. */
  flush(): Promise<void>;
}

interface Sub {
  readonly id: string;
  readonly topic: string;
  readonly accepts: CompiledFilterPolicy | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * One line for a person watching the console: alerts (bare details or EventBridge envelopes around
 * them) are summarised by their fields, anything else is shown truncated.
 */
export function summarizeMessage(message: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return message.length > 120 ? `${message.slice(0, 117)}...` : message;
  }
  const rec = parsed as Record<string, unknown> | null;
  const detail = (typeof rec?.detail === 'object' && rec.detail !== null ? rec.detail : rec) as Record<string, unknown> | null;
  const asset = str(detail?.assetId);
  if (asset === undefined) return message.length > 120 ? `${message.slice(0, 117)}...` : message;
  const scores = detail?.scores as Record<string, unknown> | undefined;
  const risk = typeof scores?.risk === 'number' ? ` risk=${scores.risk.toFixed(2)}` : '';
  const cost = typeof detail?.estimatedCostAvoidedUsd === 'number' ? ` avoided≈$${Math.round(detail.estimatedCostAvoidedUsd)}` : '';
  const component = str(detail?.component) ? `/${str(detail?.component)}` : '';
  return `${str(detail?.severity) ?? '?'} ${str(detail?.siteId) ?? '?'}/${asset}${component} (${str(detail?.assetModel) ?? '?'}) ${str(detail?.from) ?? '?'}→${str(detail?.to) ?? '?'}${risk}${cost}`;
}

/** Creates the local SNS. @throws InvalidFilterPolicyError for a malformed subscription policy */
export function createLocalSns(options: LocalSnsOptions = {}): LocalSns {
  const region = options.region ?? 'us-east-1';
  const now = options.now ?? (() => new Date());
  const print = options.print ?? ((line: string) => console.log(line));
  const onError = options.onError ?? ((m: string) => process.stderr.write(`[sns] ${m}\n`));
  const stats = { published: 0, delivered: 0, filteredOut: 0, webhookSent: 0, webhookFailed: 0, fileErrors: 0 };
  const topicArn = (topic: string): string => `arn:aws:sns:${region}:000000000000:${topic}`;

  const explicit = options.subscriptions !== undefined;
  const subs: Sub[] = (options.subscriptions ?? []).map((s, i) => ({
    id: s.id ?? `${s.topic}-${i}`,
    topic: s.topic,
    accepts: s.filterPolicy === undefined ? undefined : compileFilterPolicy(s.filterPolicy, s.filterPolicyScope ?? 'MessageAttributes'),
  }));
  const subsOf = (topic: string): readonly Sub[] => {
    const found = subs.filter((s) => s.topic === topic);
    if (found.length > 0 || explicit) return found;
    const implicit: Sub = { id: topic, topic, accepts: undefined };
    subs.push(implicit);
    return [implicit];
  };

  // Appends are chained so lines keep their order and never interleave.
  let writes: Promise<void> = Promise.resolve();
  let dirReady: Promise<unknown> | undefined;
  const append = (record: Readonly<Record<string, unknown>>): Promise<void> => {
    const path = options.jsonlPath;
    if (path === undefined) return Promise.resolve();
    const line = `${JSON.stringify(record)}\n`;
    writes = writes.then(async () => {
      try {
        dirReady ??= mkdir(dirname(path), { recursive: true });
        await dirReady;
        await appendFile(path, line, 'utf8');
      } catch (err) {
        stats.fileErrors++;
        onError(`cannot append to ${path}: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    return writes;
  };

  const safePrint = (line: string): void => {
    try {
      print(line);
    } catch (err) {
      onError(`print failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const deliver = async (sub: Sub, messageId: string, message: string, attributes: MessageAttributes, timestamp: string): Promise<void> => {
    stats.delivered++;
    safePrint(`[sns ${sub.topic}→${sub.id}] ${summarizeMessage(message)}`);
    const outputs: Promise<void>[] = [
      append({ kind: 'sns', timestamp, topic: sub.topic, topicArn: topicArn(sub.topic), subscription: sub.id, messageId, messageAttributes: attributes, message }),
    ];
    if (options.webhookUrl !== undefined) {
      const url = options.webhookUrl;
      const notification: SnsHttpNotification = {
        Type: 'Notification',
        MessageId: messageId,
        TopicArn: topicArn(sub.topic),
        Message: message,
        Timestamp: timestamp,
        MessageAttributes: Object.fromEntries(
          Object.entries(attributes)
            .filter(([, a]) => a.DataType !== 'Binary')
            .map(([k, a]) => [k, { Type: a.DataType, Value: a.StringValue ?? '' }]),
        ),
      };
      outputs.push(
        postNotification(url, notification, `${topicArn(sub.topic)}:${sub.id}`, options.webhook).then((r) => {
          if (r.ok) stats.webhookSent++;
          else {
            stats.webhookFailed++;
            onError(`webhook ${url} failed for ${messageId} after ${r.attempts} attempt(s): ${r.error}`);
          }
        }),
      );
    }
    await Promise.all(outputs);
  };

  return {
    stats,
    topicArn,
    async publish(topic, message, attributes = {}) {
      // Validates the attributes before any subscription sees them, as Publish does.
      attributesForMatching(attributes);
      const messageId = randomUUID();
      const timestamp = now().toISOString();
      stats.published++;
      const accepted: Sub[] = [];
      for (const sub of subsOf(topic)) {
        if (sub.accepts === undefined || sub.accepts(message, attributes)) accepted.push(sub);
        else stats.filteredOut++;
      }
      await Promise.all(accepted.map((s) => deliver(s, messageId, message, attributes, timestamp)));
      return { messageId, deliveredTo: accepted.map((s) => s.id) };
    },
    async log(kind, record, line) {
      safePrint(line);
      await append({ kind, timestamp: now().toISOString(), ...record });
    },
    flush: () => writes,
  };
}
