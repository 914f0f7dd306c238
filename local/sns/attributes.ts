/**
 * SNS message attributes of alert messages. One function builds them from the alert detail so the
 * local SNS and any cloud publisher (mirrored on the CDK side) attach the same names and types, and a
 * subscription filter policy written once (e.g. `{ "severity": ["critical"], "siteId": ["site-a"] }`)
 * behaves the same in both.
 */
import type { TwinHealthChangedDetail } from '../../lambdas/core/alerts/policy.ts';

/** Same shape as `MessageAttributeValue` of `@aws-sdk/client-sns` (Publish). */
export interface MessageAttributeValue {
  readonly DataType: 'String' | 'Number' | 'String.Array' | 'Binary';
  readonly StringValue?: string;
  readonly BinaryValue?: Uint8Array;
}

export type MessageAttributes = Readonly<Record<string, MessageAttributeValue>>;

/** Names of the attributes every alert message carries (all of type String). */
export const ALERT_ATTRIBUTE_NAMES = ['severity', 'siteId', 'assetModel'] as const;

/** `severity`, `siteId` and `assetModel` of an alert, as String attributes. */
export function alertMessageAttributes(
  detail: Pick<TwinHealthChangedDetail, (typeof ALERT_ATTRIBUTE_NAMES)[number]>,
): MessageAttributes {
  return {
    severity: { DataType: 'String', StringValue: detail.severity },
    siteId: { DataType: 'String', StringValue: detail.siteId },
    assetModel: { DataType: 'String', StringValue: detail.assetModel },
  };
}

/**
 * The same attributes from an untyped event detail: only the names that hold a non-empty string are
 * set, because SNS rejects an attribute with an empty value and a missing one is what `exists: false`
 * policies test for.
 */
export function alertMessageAttributesFromDetail(detail: Readonly<Record<string, unknown>>): MessageAttributes {
  const out: Record<string, MessageAttributeValue> = {};
  for (const name of ALERT_ATTRIBUTE_NAMES) {
    const v = detail[name];
    if (typeof v === 'string' && v !== '') out[name] = { DataType: 'String', StringValue: v };
  }
  return out;
}
