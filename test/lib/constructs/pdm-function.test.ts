import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../../lambdas/core/config/env.ts';
import { ContradictoryPropsError, PdmFunction } from '../../../lib/constructs/pdm-function.ts';

const entry = 'lambdas/clean/handler.ts';

describe('PdmFunction', () => {
  it('rejects a timeout above the Lambda maximum', () => {
    const stack = new Stack(new App(), 'S');

    expect(() => new PdmFunction(stack, 'F', { entry, timeout: Duration.minutes(16) })).toThrow(ContradictoryPropsError);
  });

  it('rejects binding the same environment variable twice', () => {
    const stack = new Stack(new App(), 'S');
    const fn = new PdmFunction(stack, 'F', { entry });
    const table = dynamodb.Table.fromTableName(stack, 'T', 'assets');
    fn.bindTableReader(ENV.assetTable, table);

    expect(() => fn.bindTableReadWriter(ENV.assetTable, table)).toThrow(/bound twice/);
  });

  it('rejects endpoint scoring without endpoints', () => {
    const stack = new Stack(new App(), 'S');
    const fn = new PdmFunction(stack, 'F', { entry });

    expect(() => fn.bindEndpoints({}, 2000)).toThrow(/at least one endpoint/);
  });

  it('sets the variable and grants the access in one bind', () => {
    const stack = new Stack(new App(), 'S');
    const fn = new PdmFunction(stack, 'F', { entry });
    fn.bindTableReader(ENV.assetTable, dynamodb.Table.fromTableName(stack, 'T', 'assets'));

    const template = Template.fromStack(stack);

    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { [ENV.assetTable]: 'assets', NODE_OPTIONS: '--enable-source-maps' } } });
    const policy = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policy).toContain('dynamodb:GetItem');
    expect(policy).not.toContain('dynamodb:PutItem');
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    const role = Object.values(template.findResources('AWS::IAM::Role'))[0] as { Properties: { ManagedPolicyArns?: unknown } };
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });
});
