import {
  RejectedRecordsException,
  ThrottlingException,
  TimestreamWriteClient,
  WriteRecordsCommand,
} from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { TimestreamTelemetryStore } from '../../lambdas/adapters/aws/timestream.ts';
import type { CleanSample } from '../../lambdas/core/types.ts';

const mock = mockClient(TimestreamWriteClient);
afterEach(() => mock.reset());
const instant = { sleep: async () => undefined };
const client = () => new TimestreamWriteClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
const tables = { database: 'pdm', telemetryTable: 'telemetry', featuresTable: 'features', predictionsTable: 'predictions' };
const sample = (i: number): CleanSample => ({
  assetId: `pump-${i % 3}`,
  siteId: 'site-a',
  modelId: 'centrifugal-pump',
  ts: 1_767_225_600_000 + i * 1000,
  seq: i,
  readings: { vibration: 2.5 + i, temperature: 60 },
  receivedAt: 1_767_225_600_000 + i * 1000,
});

describe('TimestreamTelemetryStore', () => {
  it('writes one multi-measure record per sample, 100 per call', async () => {
    mock.on(WriteRecordsCommand).resolves({});
    const store = new TimestreamTelemetryStore(client(), tables);

    const report = await store.writeTelemetry(Array.from({ length: 250 }, (_, i) => sample(i)));

    expect(report).toEqual({ written: 250, rejected: [] });
    const calls = mock.commandCalls(WriteRecordsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Records?.length)).toEqual([100, 100, 50]);
    const first = calls[0]!.Records![0]!;
    expect(first).toMatchObject({
      MeasureName: 'telemetry',
      MeasureValueType: 'MULTI',
      Time: String(sample(0).ts),
      TimeUnit: 'MILLISECONDS',
      Dimensions: [
        { Name: 'assetId', Value: 'pump-0' },
        { Name: 'siteId', Value: 'site-a' },
        { Name: 'assetModel', Value: 'centrifugal-pump' },
      ],
    });
    expect(first.MeasureValues).toContainEqual({ Name: 'vibration', Value: '2.5', Type: 'DOUBLE' });
    expect(calls[0]).toMatchObject({ DatabaseName: 'pdm', TableName: 'telemetry' });
  });

  it('reports rejected records with their reason and index in the caller’s array', async () => {
    mock
      .on(WriteRecordsCommand)
      .resolvesOnce({})
      .rejectsOnce(
        new RejectedRecordsException({
          $metadata: {},
          message: 'rejected',
          RejectedRecords: [{ RecordIndex: 4, Reason: 'The record timestamp is outside the time range of the data ingestion window.' }],
        }),
      );
    const store = new TimestreamTelemetryStore(client(), tables);

    const report = await store.writeTelemetry(Array.from({ length: 150 }, (_, i) => sample(i)));

    expect(report.written).toBe(149);
    expect(report.rejected).toEqual([
      { index: 104, assetId: sample(104).assetId, seq: 104, reason: expect.stringContaining('outside the time range') },
    ]);
  });

  it('retries throttling with backoff and throws once the attempts are spent', async () => {
    mock
      .on(WriteRecordsCommand)
      .rejectsOnce(new ThrottlingException({ $metadata: {}, message: 'slow', Message: 'slow' }))
      .resolvesOnce({});
    const store = new TimestreamTelemetryStore(client(), tables, instant);
    await expect(store.writeTelemetry([sample(1)])).resolves.toEqual({ written: 1, rejected: [] });

    mock.reset();
    mock.on(WriteRecordsCommand).rejects(new ThrottlingException({ $metadata: {}, message: 'slow', Message: 'slow' }));
    await expect(new TimestreamTelemetryStore(client(), tables, { ...instant, attempts: 3 }).writeTelemetry([sample(1)])).rejects.toThrow(
      'slow',
    );
    expect(mock.commandCalls(WriteRecordsCommand)).toHaveLength(3);
  });

  it('writes predictions with only the scores a model produced', async () => {
    mock.on(WriteRecordsCommand).resolves({});
    const store = new TimestreamTelemetryStore(client(), tables);
    await store.writePredictions([
      {
        assetId: 'p',
        siteId: 's',
        modelId: 'centrifugal-pump',
        ts: 1_767_225_600_000,
        seq: 3,
        anomaly: 0.25,
        prediction: { failureProbability: 0.5, rul: null, scoredBy: 'endpoint' },
      },
    ]);
    const values = mock.commandCalls(WriteRecordsCommand)[0]!.args[0].input.Records![0]!.MeasureValues!;
    expect(values.map((v) => v.Name)).toEqual(['seq', 'anomaly', 'failure_probability', 'scored_by']);
  });
});
