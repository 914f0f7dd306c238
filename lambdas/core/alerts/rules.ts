/**
 * EventBridge rule patterns for alert routing: the single source of truth. The CDK stack renders them
 * into `AWS::Events::Rule` EventPattern properties and the local mode feeds the same objects to its
 * pattern matcher, so what routes locally routes the same way in the cloud.
 */
import { ALERT_DETAIL_TYPE, ALERT_SOURCE } from './policy.ts';

export type EventPattern = Readonly<Record<string, unknown>>;

export interface AlertRoute {
  /** Stable id: construct id in CDK, route name locally. */
  readonly id: string;
  readonly description: string;
  readonly pattern: EventPattern;
  /** Where matching events go: an SNS topic by severity, or the transitions log. */
  readonly target: 'critical-topic' | 'warning-topic' | 'transitions-log';
}

const base = { source: [ALERT_SOURCE], 'detail-type': [ALERT_DETAIL_TYPE] } as const;

export const ALERT_ROUTES: readonly AlertRoute[] = [
  {
    id: 'CriticalAlerts',
    description: 'Twin health changes to CRITICAL → critical topic',
    pattern: { ...base, detail: { severity: ['critical'] } },
    target: 'critical-topic',
  },
  {
    id: 'WarningAlerts',
    description: 'Twin health changes to WARNING → warning topic',
    pattern: { ...base, detail: { severity: ['warning'] } },
    target: 'warning-topic',
  },
  {
    id: 'AllTransitions',
    description: 'Every twin health change → transitions log group',
    pattern: { ...base },
    target: 'transitions-log',
  },
];
