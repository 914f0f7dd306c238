import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundleDir } from '../../../lambdas/adapters/model.ts';
import type { ModelBundle } from '../../../lambdas/core/model/bundle.ts';
import { predictBatch } from '../../../lambdas/core/model/predict.ts';
import { csvRowsForEndpoint } from '../../../lambdas/core/model/scorer.ts';
import { type ModelServer, startModelServer } from '../../../local/runtime/model-server.ts';
import { pumpBatch } from '../../adapters/rows.ts';

describe('local SageMaker-protocol model server', () => {
  let bundle: ModelBundle;
  let server: ModelServer;
  let client: SageMakerRuntimeClient;

  beforeAll(async () => {
    bundle = readBundleDir(new URL('../../../layers/model', import.meta.url).pathname);
    server = await startModelServer(bundle);
    client = new SageMakerRuntimeClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      endpoint: server.url,
    });
  });

  afterAll(async () => {
    client.destroy();
    await server.close();
  });

  it('answers InvokeEndpoint with CSV in, one float32 per line out, equal to in-process scoring', async () => {
    const predictor = bundle.models.get('centrifugal-pump')!.failure!;
    const rows = pumpBatch(60).rows;
    const csv = csvRowsForEndpoint(predictor, rows);

    const response = await client.send(
      new InvokeEndpointCommand({
        EndpointName: server.endpoints['centrifugal-pump/failure'],
        ContentType: 'text/csv',
        Body: new TextEncoder().encode(csv),
      }),
    );
    const served = response.Body!.transformToString().trim().split('\n').map(Number);

    const width = predictor.columns.length;
    const matrix = new Float32Array(rows.length * width);
    rows.forEach((row, i) => predictor.columns.forEach((c, j) => (matrix[i * width + j] = row.vector[c]!)));
    const local = predictBatch(predictor.model, matrix, rows.length);
    expect(served).toHaveLength(rows.length);
    served.forEach((v, i) => expect(Math.fround(v)).toBe(Math.fround(local[i]!)));
  });

  it('refuses an unknown endpoint and malformed CSV with SageMaker error types', async () => {
    const send = (name: string, body: string) =>
      client.send(
        new InvokeEndpointCommand({ EndpointName: name, ContentType: 'text/csv', Body: new TextEncoder().encode(body) }),
      );
    await expect(send('pdm-local-no-such-endpoint', '1,2,3')).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(send(server.endpoints['centrifugal-pump/failure']!, '1,2\nnot,a,number,row')).rejects.toMatchObject({
      name: 'ModelError',
      OriginalStatusCode: 400,
    });
    expect(server.stats.errors).toBeGreaterThanOrEqual(2);
  });
});
