/**
 * The alert formatter: invoked by the alert rules with `{ topic, event }`, it publishes the event to
 * the severity topic once, with a text per protocol (lambdas/core/notify/format.ts): email and SMS
 * subscribers read a short text, HTTPS/SQS/Lambda subscribers get the EventBridge event as before.
 * It also sets the message attributes the subscriptions filter on (an EventBridge SNS target could not).
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type AlertEvent, snsMessage } from '../core/notify/format.ts';

export class NotifyInputError extends Error {
  override readonly name: string = 'NotifyInputError';
}

export interface NotifyInput {
  /** Which topic the route targets: `critical` or `warning`. */
  readonly topic: string;
  readonly event: AlertEvent;
}

export interface NotifyDeps {
  readonly sns: Pick<SNSClient, 'send'>;
  /** Topic ARN by route target name. */
  readonly topics: Readonly<Record<string, string>>;
  readonly dashboardUrl?: string;
}

/** Environment variable holding `{ "critical": "<arn>", "warning": "<arn>" }`. */
export const ALERT_TOPICS_ENV = 'PDM_ALERT_TOPICS';
/** Optional dashboard base URL linked from the texts. */
export const DASHBOARD_URL_ENV = 'PDM_DASHBOARD_URL';

/** @throws NotifyInputError when the variable is missing or not a map of ARNs. */
export function parseTopics(raw: string | undefined): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw ?? '');
  } catch {
    throw new NotifyInputError(`${ALERT_TOPICS_ENV} must be a JSON object of topic ARNs`);
  }
  if (!parsed || typeof parsed !== 'object' || Object.values(parsed).some((v) => typeof v !== 'string' || !v.startsWith('arn:'))) {
    throw new NotifyInputError(`${ALERT_TOPICS_ENV} must map route targets to SNS topic ARNs`);
  }
  return parsed as Record<string, string>;
}

export function createNotifyHandler(deps: NotifyDeps): (input: NotifyInput) => Promise<{ readonly messageId: string | undefined }> {
  return async (input) => {
    const topicArn = deps.topics[input?.topic];
    if (!topicArn) throw new NotifyInputError(`unknown alert topic "${String(input?.topic)}"; known: ${Object.keys(deps.topics).join(', ')}`);
    const { subject, message } = snsMessage(input.event, { dashboardUrl: deps.dashboardUrl });
    const d = input.event.detail;
    const res = await deps.sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: subject,
        Message: message,
        MessageStructure: 'json',
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: d.severity },
          siteId: { DataType: 'String', StringValue: d.siteId },
          assetModel: { DataType: 'String', StringValue: d.assetModel },
        },
      }),
    );
    return { messageId: res.MessageId };
  };
}
