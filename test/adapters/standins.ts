/**
 * Test stand-ins: dynalite (DynamoDB) and kinesalite (Kinesis) on random loopback ports, with SDK
 * clients pointed at them (region + dummy credentials; Kinesis over HTTP/1.1).
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
} from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisStreamEvent } from 'aws-lambda';
import { TWIN_DOCUMENT_OPTIONS } from '../../lambdas/adapters/aws/dynamodb.ts';
import { waitStreamActive } from '../../local/runtime/streams.ts';

const require = createRequire(import.meta.url);
type Factory = (opts: Record<string, number>) => Server;
const dynalite = require('dynalite') as Factory;
const kinesalite = require('kinesalite') as Factory;

export const local = (port: number) => ({
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  endpoint: `http://127.0.0.1:${port}`,
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export interface Dynamo {
  readonly port: number;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  createTable(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<Dynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const port = await listen(server);
  const client = new DynamoDBClient(local(port));
  return {
    port,
    client,
    doc: DynamoDBDocumentClient.from(client, TWIN_DOCUMENT_OPTIONS),
    async createTable(name) {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          KeySchema: [{ AttributeName: 'assetId', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'assetId', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    },
    close: () => {
      client.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Kinesis {
  readonly port: number;
  readonly client: KinesisClient;
  createStream(name: string, shards?: number): Promise<void>;
  /** Every record's data of a stream, shard by shard, as strings. */
  readAll(name: string): Promise<{ partitionKey: string; data: Uint8Array; sequenceNumber: string }[]>;
  close(): Promise<void>;
}

export async function startKinesalite(): Promise<Kinesis> {
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });
  const port = await listen(server);
  const client = new KinesisClient({ ...local(port), requestHandler: new NodeHttpHandler() });
  return {
    port,
    client,
    async createStream(name, shards = 2) {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      await waitStreamActive(client, name);
    },
    async readAll(name) {
      const desc = await client.send(new DescribeStreamCommand({ StreamName: name }));
      const out: { partitionKey: string; data: Uint8Array; sequenceNumber: string }[] = [];
      for (const shard of desc.StreamDescription?.Shards ?? []) {
        const it = await client.send(
          new GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
        );
        let iterator = it.ShardIterator;
        for (let i = 0; iterator && i < 50; i++) {
          const res = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
          for (const r of res.Records ?? []) {
            out.push({ partitionKey: r.PartitionKey!, data: r.Data!, sequenceNumber: r.SequenceNumber! });
          }
          if ((res.Records ?? []).length === 0) break;
          iterator = res.NextShardIterator;
        }
      }
      return out;
    },
    close: () => {
      client.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

let seqCounter = 0;

/** A KinesisStreamEvent as the Lambda event source builds it. */
export function kinesisEvent(
  records: readonly { partitionKey: string; data: Uint8Array; sequenceNumber?: string }[],
  arn = 'arn:aws:kinesis:us-east-1:123456789012:stream/raw',
): KinesisStreamEvent {
  return {
    Records: records.map((r) => {
      const sequenceNumber = r.sequenceNumber ?? String(49_000_000_000_000n + BigInt(++seqCounter));
      return {
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: r.partitionKey,
          sequenceNumber,
          data: Buffer.from(r.data).toString('base64'),
          approximateArrivalTimestamp: 1_767_225_600,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `shardId-000000000000:${sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda',
        awsRegion: 'us-east-1',
        eventSourceARN: arn,
      };
    }),
  };
}

/** A minimal Lambda context (only `awsRequestId` is read). */
export function lambdaContext(requestId = 'req-1'): import('aws-lambda').Context {
  return {
    awsRequestId: requestId,
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test',
    memoryLimitInMB: '512',
    logGroupName: '/aws/lambda/test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
