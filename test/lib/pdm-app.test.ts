import { App, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '../../lib/config.ts';
import { addNagChecks, buildPdmApp } from '../../lib/pdm-app.ts';
import { ENDPOINT_SCORING, TEST_ENV } from './fixtures.ts';

/** Synthesises with cdk-nag; in process, any finding (error or warning) makes synth throw ValidationFailed. */
// The widest config: Timestream on, endpoints on, every subscription kind.
const WIDEST = {
  timestream: { enabled: true },
  scoring: ENDPOINT_SCORING,
  provisioning: { fleetByClaim: true },
  alerts: { critical: { emails: ['a@example.com'], sqs: ['arn:aws:sqs:eu-west-1:123456789012:q'] }, ops: { https: ['https://example.com/h'] } },
};

function synthWithNag(extra?: (app: App) => void, raw: unknown = WIDEST): string | undefined {
  const app = new App();
  buildPdmApp(app, parseStageConfig(raw), { env: TEST_ENV });
  extra?.(app);
  addNagChecks(app);
  try {
    app.synth();
    return undefined;
  } catch (e) {
    return String(e);
  }
}

describe('buildPdmApp with cdk-nag', () => {
  it('synthesises every stack with no unacknowledged AwsSolutions or Serverless finding', () => {
    expect(synthWithNag()).toBeUndefined();
  });

  it('synthesises instance-backed endpoints with no unacknowledged finding', () => {
    expect(synthWithNag(undefined, { scoring: { mode: 'instance' } })).toBeUndefined();
  });

  it('fails synth when an unacknowledged finding appears', () => {
    const failure = synthWithNag((app) => new sqs.Queue(new Stack(app, 'Stray', { env: TEST_ENV }), 'Plain'));

    expect(failure).toMatch(/AwsSolutions-SQS4|AwsSolutions-SQS3/);
  });
});
