/**
 * Local alerting, wired as in the cloud: a PutEvents endpoint whose rules are `ALERT_ROUTES` (the
 * objects the CDK renders), critical/warning routes delivering to the local SNS topics, and the
 * all-transitions route writing the transitions log (console + JSONL). As with an EventBridge rule
 * targeting SNS without an input transformer, the SNS message is the whole event envelope as JSON.
 */
import { ALERT_ROUTES, type AlertRoute } from '../../lambdas/core/alerts/rules.ts';
import { type EventEnvelope, type LocalEventBridge, startLocalEventBridge } from '../eventbridge/server.ts';
import { alertMessageAttributesFromDetail } from './attributes.ts';
import { createLocalSns, type LocalSns, type LocalSnsOptions, summarizeMessage } from './local-sns.ts';

/** Topic each SNS-bound route publishes to. */
export const ROUTE_TOPICS = { 'critical-topic': 'critical', 'warning-topic': 'warning' } as const;

export interface LocalAlertingOptions {
  /** Outputs and subscriptions of the local SNS. @default console only, one unfiltered subscription per topic */
  readonly sns?: LocalSnsOptions;
  /** Port of the PutEvents endpoint on 127.0.0.1. @default 0 (a free port) */
  readonly port?: number;
  /** Rules. @default ALERT_ROUTES */
  readonly routes?: readonly AlertRoute[];
  /** Region in envelopes when requests carry none. @default 'us-east-1' */
  readonly region?: string;
  /**
   * Called with every event the transitions route delivers (it matches every TwinHealthChanged), so
   * the local runtime can keep its alert log and counts from what actually crossed the bus.
   */
  readonly onTransition?: (event: EventEnvelope) => void;
}

export interface LocalAlerting {
  /** PutEvents endpoint: `endpoint` of an `EventBridgeClient`, or `AWS_ENDPOINT_URL_EVENTBRIDGE`. */
  readonly endpoint: string;
  readonly eventBridge: LocalEventBridge;
  readonly sns: LocalSns;
  /** Waits for deliveries and file writes in flight (tests; before reading the JSONL file). */
  idle(): Promise<void>;
  /** Stops the endpoint after deliveries in flight and flushes the JSONL file. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the local EventBridge + SNS pair. @throws InvalidEventPatternError, InvalidFilterPolicyError */
export async function createLocalAlerting(options: LocalAlertingOptions = {}): Promise<LocalAlerting> {
  const sns = createLocalSns(options.sns);
  const onDelivery = async (route: AlertRoute, event: EventEnvelope): Promise<void> => {
    if (route.target === 'transitions-log') {
      options.onTransition?.(event);
      const line = `[transition ${route.id}] ${summarizeMessage(JSON.stringify(event))}`;
      await sns.log('transition', { route: route.id, event }, line);
      return;
    }
    await sns.publish(ROUTE_TOPICS[route.target], JSON.stringify(event), alertMessageAttributesFromDetail(event.detail));
  };
  const eventBridge = await startLocalEventBridge<AlertRoute>({
    routes: options.routes ?? ALERT_ROUTES,
    onDelivery,
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.region === undefined ? {} : { region: options.region }),
  });
  const idle = async (): Promise<void> => {
    await eventBridge.idle();
    await sns.flush();
  };
  return {
    endpoint: eventBridge.endpoint,
    eventBridge,
    sns,
    idle,
    stop: async () => {
      await eventBridge.stop();
      await sns.flush();
    },
  };
}
