/**
 * Webhook delivery for the local SNS: one POST per delivered message, in the shape SNS uses for HTTP/S
 * subscriptions (a `Notification` JSON document plus the `x-amz-sns-*` headers), so a receiver written
 * against the local mode also parses real SNS deliveries. Bounded retries with a per-attempt timeout;
 * the result is reported, never thrown.
 */
import { backoff, type BackoffOptions } from '../../lambdas/adapters/retry.ts';

export interface WebhookOptions {
  /** Per-attempt timeout in ms. @default 2000 */
  readonly timeoutMs?: number;
  /** Backoff between attempts; `attempts` counts the first one. @default { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 } */
  readonly retry?: BackoffOptions;
}

export type WebhookResult =
  | { readonly ok: true; readonly attempts: number; readonly status: number }
  | { readonly ok: false; readonly attempts: number; readonly error: string };

/** The body SNS posts to an HTTP/S subscriber (unsigned locally). */
export interface SnsHttpNotification {
  readonly Type: 'Notification';
  readonly MessageId: string;
  readonly TopicArn: string;
  readonly Subject?: string;
  readonly Message: string;
  readonly Timestamp: string;
  readonly MessageAttributes?: Readonly<Record<string, { readonly Type: string; readonly Value: string }>>;
}

/** 408, 429 and 5xx are worth another attempt; other 4xx answers will not change. */
const retryableStatus = (s: number): boolean => s === 408 || s === 429 || s >= 500;

export async function postNotification(
  url: string,
  notification: SnsHttpNotification,
  subscriptionArn: string,
  options: WebhookOptions = {},
): Promise<WebhookResult> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const retry = backoff({ attempts: 3, baseDelayMs: 100, maxDelayMs: 1_000, ...options.retry });
  const body = JSON.stringify(notification);
  let error: string;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'text/plain; charset=UTF-8',
          'x-amz-sns-message-type': 'Notification',
          'x-amz-sns-message-id': notification.MessageId,
          'x-amz-sns-topic-arn': notification.TopicArn,
          'x-amz-sns-subscription-arn': subscriptionArn,
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      // Drain the body so the keep-alive socket is released.
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true, attempts: attempt, status: res.status };
      error = `HTTP ${res.status}`;
      if (!retryableStatus(res.status)) return { ok: false, attempts: attempt, error };
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      error = err instanceof Error && err.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : `${err instanceof Error ? err.message : String(err)}${cause}`;
    }
    if (attempt >= retry.attempts) return { ok: false, attempts: attempt, error };
    await retry.pause(attempt);
  }
}
