/**
 * Acknowledging cdk-nag's AwsSolutions-IAM5 (wildcard) findings by pattern, each pattern with its
 * reason. The finding ids embed resolved references (e.g. an export name for a bucket ARN from the
 * stateful stack), which exist only after the app is prepared; so the acknowledgements are computed
 * in a construct validation hook, which runs after prepare and before the validation plugins, with
 * cdk-nag's own rule producing the exact ids. A wildcard that matches no allowance stays an error.
 */
import { CfnResource, Validations } from 'aws-cdk-lib';
import { rules } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** One permitted kind of wildcard finding, e.g. `{ pattern: /^Action::s3:Abort\*$/, reason }`. */
export interface WildcardAllowance {
  /** Tested against the finding, e.g. `Action::kms:GenerateDataKey*` or `Resource::arn:…/*`. */
  readonly pattern: RegExp;
  /** Why this wildcard is needed, recorded with the acknowledgement. */
  readonly reason: string;
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
          const allowance = allowances.find((a) => a.pattern.test(finding));
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
