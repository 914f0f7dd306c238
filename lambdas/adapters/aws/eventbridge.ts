/** EventBridge publisher of `TwinHealthChanged` events. */
import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { TwinHealthChangedDetail } from '../../core/alerts/policy.ts';
import { ALERT_DETAIL_TYPE, ALERT_SOURCE } from '../../core/alerts/policy.ts';
import type { AlertFailure, AlertPublisher } from '../ports.ts';
import { type BackoffOptions, backoff, errorMessage, errorName, isRetryable } from '../retry.ts';

/** PutEvents takes at most 10 entries per call. */
export const PUT_EVENTS_MAX = 10;

/**
 * Publishes in calls of ≤ 10 entries. Failed entries of a call (and retryable errors of a whole call)
 * are retried with backoff a bounded number of times; what still fails is returned.
 */
export class EventBridgeAlertPublisher implements AlertPublisher {
  private readonly retry;

  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
    retry: BackoffOptions = {},
  ) {
    this.retry = backoff(retry);
  }

  async publish(alerts: readonly TwinHealthChangedDetail[]): Promise<{ failed: AlertFailure[] }> {
    const failed: AlertFailure[] = [];
    for (let i = 0; i < alerts.length; i += PUT_EVENTS_MAX) {
      failed.push(...(await this.publishChunk(alerts.slice(i, i + PUT_EVENTS_MAX))));
    }
    return { failed };
  }

  private entry(alert: TwinHealthChangedDetail): PutEventsRequestEntry {
    return {
      Source: ALERT_SOURCE,
      DetailType: ALERT_DETAIL_TYPE,
      Detail: JSON.stringify(alert),
      EventBusName: this.eventBusName,
      Resources: [],
    };
  }

  private async publishChunk(chunk: readonly TwinHealthChangedDetail[]): Promise<AlertFailure[]> {
    let pending = chunk;
    let errors = new Map<TwinHealthChangedDetail, string>();
    for (let attempt = 1; ; attempt++) {
      errors = new Map();
      try {
        const res = await this.client.send(new PutEventsCommand({ Entries: pending.map((a) => this.entry(a)) }));
        const entries = res.Entries ?? [];
        pending.forEach((alert, i) => {
          const e = entries[i];
          if (e === undefined) errors.set(alert, 'no result for this entry');
          else if (e.ErrorCode) errors.set(alert, `${e.ErrorCode}: ${e.ErrorMessage ?? ''}`);
        });
      } catch (err) {
        for (const alert of pending) errors.set(alert, `${errorName(err)}: ${errorMessage(err)}`);
        if (!isRetryable(err)) break;
      }
      if (errors.size === 0 || attempt >= this.retry.attempts) break;
      pending = pending.filter((a) => errors.has(a));
      await this.retry.pause(attempt);
    }
    return [...errors].map(([alert, error]) => ({ alert, error }));
  }
}
