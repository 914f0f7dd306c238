import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { allowWildcards, starResourceActions } from '../../lib/nag.ts';
import { addNagChecks } from '../../lib/pdm-app.ts';

const ALLOW_XRAY = [{ pattern: /^Resource::\*$/, onlyActions: ['xray:PutTraceSegments'], reason: 'X-Ray has no resource-level permissions.' }];

/** Synthesises one role with the given "*" actions under cdk-nag; returns the failure text, if any. */
function synth(actions: string[]): string | undefined {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
  const role = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: ['*'] }));
  allowWildcards(role, ALLOW_XRAY);
  addNagChecks(app);
  try {
    app.synth();
    return undefined;
  } catch (e) {
    return String(e);
  }
}

describe('allowWildcards with onlyActions', () => {
  it('acknowledges "*" while every "*" statement grants only the listed actions', () => {
    expect(synth(['xray:PutTraceSegments'])).toBeUndefined();
  });

  it('leaves "*" unacknowledged, failing the synth, once another action is granted on it', () => {
    expect(synth(['xray:PutTraceSegments', 's3:GetObject'])).toMatch(/AwsSolutions-IAM5/);
  });
});

describe('starResourceActions', () => {
  it('lists only the actions of statements on "*"', () => {
    const stack = new Stack(new App(), 'S');
    const policy = new iam.Policy(stack, 'P', {
      statements: [
        new iam.PolicyStatement({ actions: ['xray:PutTelemetryRecords'], resources: ['*'] }),
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'] }),
      ],
    });

    expect(starResourceActions(policy.node.defaultChild as iam.CfnPolicy)).toEqual(['xray:PutTelemetryRecords']);
  });
});
