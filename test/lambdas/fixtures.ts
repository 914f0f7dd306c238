/** Shared handler-test input: a simulated fleet, its registry rows, and raw stream records. */
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createFleet, type FleetAsset, FleetSimulator } from '../../devices/fleet.ts';
import { encodeRawRecord } from '../../lambdas/adapters/records.ts';

export const quietLogger = () => new Logger({ serviceName: 'test', logLevel: 'SILENT' });
export const testMetrics = () => {
  // Keeps EMF lines out of the test output; addMetric calls still happen (and can be spied on).
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  return new Metrics({ namespace: 'pdm-test', serviceName: 'test' });
};

export async function registerFleet(doc: DynamoDBDocumentClient, table: string, fleet: readonly FleetAsset[]) {
  await Promise.all(
    fleet.map((a) =>
      doc.send(new PutCommand({ TableName: table, Item: { assetId: a.assetId, siteId: a.siteId, modelId: a.modelId } })),
    ),
  );
}

export interface RawRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly topic: string;
  readonly payload: string;
  readonly receivedAt: number;
}

/** Ticks of a fleet as raw stream records (the IoT rule's envelope), grouped per tick. */
export function simulate(options: { assets: number; seed: number; ticks: number; faultRate?: number; models?: string[]; failingShare?: number }) {
  const fleet = createFleet({
    assets: options.assets,
    seed: options.seed,
    ...(options.models ? { models: options.models } : {}),
    ...(options.failingShare !== undefined ? { failingShare: options.failingShare } : {}),
  });
  const sim = new FleetSimulator(fleet, { seed: options.seed, faultRate: options.faultRate ?? 0 });
  const ticks: RawRecord[][] = [];
  for (let t = 0; t < options.ticks; t++) {
    const receivedAt = sim.now + 1000;
    ticks.push(
      sim.step().map((m) => ({
        partitionKey: m.assetId,
        data: encodeRawRecord(m.topic, m.payload, receivedAt),
        topic: m.topic,
        payload: m.payload,
        receivedAt,
      })),
    );
  }
  return { fleet, ticks };
}
