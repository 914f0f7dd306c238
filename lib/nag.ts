/**
 * Acknowledging cdk-nag's AwsSolutions-IAM5 (wildcard) findings by pattern, each pattern with its
 * reason. The finding ids embed resolved references (e.g. an export name for a bucket ARN from the
 * stateful stack), which exist only after the app is prepared; so the acknowledgements are computed
 * in a construct validation hook, which runs after prepare and before the validation plugins, with
 * cdk-nag's own rule producing the exact ids. A wildcard that matches no allowance stays an error.
 */
import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { rules } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** One permitted kind of wildcard finding, e.g. `{ pattern: /^Action::s3:Abort\*$/, reason }`. */
export interface WildcardAllowance {
  /** Tested against the finding, e.g. `Action::kms:GenerateDataKey*` or `Resource::arn:…/*`. */
  readonly pattern: RegExp;
  /** Why this wildcard is needed, recorded with the acknowledgement. */
  readonly reason: string;
  /**
   * For `Resource::*` findings: acknowledge only while every statement of the resource whose
   * Resource is `*` grants nothing but these actions. @default - any action
   */
  readonly onlyActions?: readonly string[];
}

type Statement = { Action?: string | string[]; Resource?: unknown };

/** Actions of the statements of an IAM policy or role that name the resource `*`. */
export function starResourceActions(resource: CfnResource): string[] {
  // The same properties cdk-nag's IAM5 rule reads: an IAM policy's document, a role's inline policies.
  const r = resource as unknown as { policyDocument?: unknown; policies?: unknown };
  const stack = Stack.of(resource);
  const docs: Array<{ Statement?: Statement[] } | undefined> = [];
  if (r.policyDocument !== undefined) docs.push(stack.resolve(r.policyDocument) as { Statement?: Statement[] });
  if (r.policies !== undefined) {
    for (const p of (stack.resolve(r.policies) as Array<{ PolicyDocument?: { Statement?: Statement[] } }> | undefined) ?? []) docs.push(p.PolicyDocument);
  }
  const actions: string[] = [];
  for (const doc of docs) {
    for (const st of doc?.Statement ?? []) {
      const resources = Array.isArray(st.Resource) ? st.Resource : [st.Resource];
      if (!resources.includes('*')) continue;
      actions.push(...(Array.isArray(st.Action) ? st.Action : st.Action === undefined ? [] : [st.Action]));
    }
  }
  return actions;
}

function* cfnResourcesUnder(scope: IConstruct): Generator<CfnResource> {
  for (const c of scope.node.findAll()) if (CfnResource.isCfnResource(c)) yield c;
}

/** Registers `allowances` for every IAM policy under `scope`, evaluated at synth. */
export function allowWildcards(scope: IConstruct, allowances: readonly WildcardAllowance[]): void {
  scope.node.addValidation({
    validate: () => {
      for (const resource of cfnResourcesUnder(scope)) {
        const result = rules.iam.IAMNoWildcardPermissions(resource);
        if (!Array.isArray(result)) continue;
        for (const finding of result as string[]) {
          const allowance = allowances.find(
            (a) => a.pattern.test(finding) && (a.onlyActions === undefined || starResourceActions(resource).every((x) => a.onlyActions!.includes(x))),
          );
          if (allowance) Validations.of(resource).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: allowance.reason });
        }
      }
      return [];
    },
  });
}

/** Wildcards that CDK's key grants put on the one customer-managed key. */
export const KMS_GRANT_ALLOWANCES: readonly WildcardAllowance[] = [
  {
    pattern: /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
    reason: 'CDK key grants use kms:GenerateDataKey*/ReEncrypt* action families, on the one customer-managed data key only (no Resource wildcard).',
  },
];

/** Wildcards of `bucket.grantPut()` on a bucket whose object keys are created at run time. */
export function bucketPutAllowances(bucketLogicalIdPart: string): readonly WildcardAllowance[] {
  return [
    { pattern: /^Action::s3:Abort\*$/, reason: 'grantPut adds s3:AbortMultipartUpload (Abort*) so interrupted uploads can be cleaned up.' },
    {
      pattern: new RegExp(`^Resource::.*${bucketLogicalIdPart}.*/\\*$`),
      reason: `Objects in the ${bucketLogicalIdPart} are named at run time (reason/date/uuid), so the grant covers the bucket's objects, not the bucket.`,
    },
  ];
}
