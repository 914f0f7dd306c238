import { describe, expect, it } from 'vitest';
import { mergeStageContext, parseStageConfig, readStageConfig, StageConfigError } from '../../lib/config.ts';

describe('parseStageConfig', () => {
  it('gives safe defaults for an absent context', () => {
    const config = parseStageConfig(undefined);

    expect(config.stage).toBe('dev');
    expect(config.streams).toEqual({ mode: 'provisioned', rawShards: 1, cleanShards: 1 });
    expect(config.ingest).toEqual({ basicIngest: true });
    expect(config.provisioning).toEqual({ fleetByClaim: false });
    expect(config.scoring.serverlessQuota).toEqual({ maxEndpoints: 5, maxTotalConcurrency: 10 });
    expect(config.timestream).toEqual({ enabled: false, memoryHours: 24, magneticDays: 365 });
    expect(config.scoring.mode).toBe('in-lambda');
    expect(config.scoring.serverlessMemoryMb).toBe(2048);
    expect(config.clean).toMatchObject({ batchSize: 1000, maxBatchingWindowSeconds: 5, retryAttempts: 3, maxRecordAgeSeconds: 3600 });
    expect(config.features).toMatchObject({ batchSize: 10_000, maxBatchingWindowSeconds: 300, retryAttempts: 3 });
    expect(config.dataRemovalPolicy).toBe('retain');
    expect(config.logRetentionDays).toBe(30);
    expect(config.alerts.critical).toEqual({ emails: [], sms: [], https: [], sqs: [] });
  });

  it('scores shadow challengers by default and rejects a non-boolean switch', () => {
    expect(parseStageConfig(undefined).models).toEqual({ shadow: true });
    expect(parseStageConfig({ models: { shadow: false } }).models.shadow).toBe(false);
    expect(() => parseStageConfig({ models: { shadow: 'no' } })).toThrow(StageConfigError);
  });

  it('accepts a provisioned stream mode with shard counts', () => {
    const config = parseStageConfig({ streams: { mode: 'provisioned', rawShards: 2, cleanShards: 1 } });

    expect(config.streams).toEqual({ mode: 'provisioned', rawShards: 2, cleanShards: 1 });
  });

  it('accepts every subscription kind', () => {
    const config = parseStageConfig({
      alerts: {
        critical: {
          emails: ['ops@example.com'],
          sms: ['+14155550100'],
          https: ['https://hooks.example.com/pdm'],
          sqs: ['arn:aws:sqs:eu-west-1:123456789012:pdm-alerts'],
          siteIds: ['plant-1'],
        },
      },
    });

    expect(config.alerts.critical.sqs).toHaveLength(1);
    expect(config.alerts.critical.siteIds).toEqual(['plant-1']);
  });

  it.each([
    ['a stage with capitals', { stage: 'Prod' }, 'pdm.stage'],
    ['provisioned streams without shard counts', { streams: { mode: 'provisioned' } }, 'pdm.streams.rawShards'],
    ['an unknown stream mode', { streams: { mode: 'burst' } }, 'pdm.streams.mode'],
    ['a batch size above the Kinesis limit', { clean: { batchSize: 10_001 } }, 'pdm.clean.batchSize'],
    ['a batching window above 300 s', { features: { maxBatchingWindowSeconds: 301 } }, 'pdm.features.maxBatchingWindowSeconds'],
    ['a record age below 60 s', { clean: { maxRecordAgeSeconds: 59 } }, 'pdm.clean.maxRecordAgeSeconds'],
    ['negative retries', { clean: { retryAttempts: -1 } }, 'pdm.clean.retryAttempts'],
    ['a memory store retention of 0 h', { timestream: { memoryHours: 0 } }, 'pdm.timestream.memoryHours'],
    ['a magnetic retention of 0 days', { timestream: { magneticDays: 0 } }, 'pdm.timestream.magneticDays'],
    ['an unknown scoring mode', { scoring: { mode: 'gpu' } }, 'pdm.scoring.mode'],
    ['serverless memory below 1024', { scoring: { serverlessMemoryMb: 512 } }, 'at least 1024'],
    ['serverless memory above 6144', { scoring: { serverlessMemoryMb: 7168 } }, 'at most 6144'],
    ['serverless memory off the 1024 grid', { scoring: { serverlessMemoryMb: 1536 } }, 'multiple of 1024'],
    ['a concurrency of 0', { scoring: { serverlessMaxConcurrency: 0 } }, 'pdm.scoring.serverlessMaxConcurrency'],
    ['a malformed instance type', { scoring: { instanceType: 'm5.large' } }, 'ml.<family>.<size>'],
    ['an invalid email', { alerts: { critical: { emails: ['not-an-email'] } } }, 'pdm.alerts.critical.emails.0'],
    ['a phone number without country code', { alerts: { warning: { sms: ['4155550100'] } } }, 'E.164'],
    ['a plain http url', { alerts: { ops: { https: ['http://example.com/hook'] } } }, 'https://'],
    ['a malformed queue ARN', { alerts: { ops: { sqs: ['arn:aws:sns:eu-west-1:123456789012:t'] } } }, 'SQS queue ARN'],
    ['a log retention CloudWatch does not offer', { logRetentionDays: 31 }, 'logRetentionDays must be one of'],
    ['an unknown removal policy', { dataRemovalPolicy: 'snapshot' }, 'pdm.dataRemovalPolicy'],
    ['an unknown key', { stagee: 'dev' }, 'stagee'],
    ['a malformed region', { region: 'europe' }, 'pdm.region'],
  ])('rejects %s', (_name, raw, message) => {
    expect(() => parseStageConfig(raw)).toThrow(StageConfigError);
    expect(() => parseStageConfig(raw)).toThrow(message);
  });

  it('reports every bad field at once', () => {
    const attempt = () => parseStageConfig({ stage: 'X', logRetentionDays: 2 });

    expect(attempt).toThrow(/pdm\.stage: .*; pdm\.logRetentionDays: /);
  });
});

describe('readStageConfig', () => {
  it('parses a JSON string given with -c', () => {
    expect(readStageConfig('{"stage":"prod"}').stage).toBe('prod');
  });

  it('rejects a string that is not JSON', () => {
    expect(() => readStageConfig('{stage:prod}')).toThrow(/must be JSON/);
  });

  it('rejects a JSON string that is not an object', () => {
    expect(() => readStageConfig('["prod"]', {})).toThrow(StageConfigError);
  });

  it('keeps the cdk.json subscriptions when -c sets only the stage', () => {
    const cdkJson = { stage: 'dev', alerts: { ops: { emails: ['ops@example.com'] } } };

    const config = readStageConfig('{"stage":"prod"}', cdkJson);

    expect(config.stage).toBe('prod');
    expect(config.alerts.ops.emails).toEqual(['ops@example.com']);
  });

  it('merges nested objects key by key and replaces arrays whole', () => {
    const cdkJson = { alerts: { ops: { emails: ['a@example.com', 'b@example.com'], sms: ['+14155550100'] } }, scoring: { mode: 'endpoint' } };

    const config = readStageConfig('{"alerts":{"ops":{"emails":["c@example.com"]}},"scoring":{"serverlessMemoryMb":3072}}', cdkJson);

    expect(config.alerts.ops).toMatchObject({ emails: ['c@example.com'], sms: ['+14155550100'] });
    expect(config.scoring).toMatchObject({ mode: 'endpoint', serverlessMemoryMb: 3072 });
  });

  it('removes a key given as null so its default applies', () => {
    const config = readStageConfig('{"streams":null}', { streams: { mode: 'on-demand' } });

    expect(config.streams).toEqual({ mode: 'provisioned', rawShards: 1, cleanShards: 1 });
  });
});

describe('mergeStageContext', () => {
  it('never changes the base object', () => {
    const base = { alerts: { ops: { emails: ['a@example.com'] } } };

    mergeStageContext(base, { alerts: { ops: { emails: [] } } });

    expect(base).toEqual({ alerts: { ops: { emails: ['a@example.com'] } } });
  });
});
