/**
 * SDK clients as the handlers create them once per container. Endpoints come from the SDK's own
 * `AWS_ENDPOINT_URL[_<SERVICE>]` variables (local mode), except Timestream, whose endpoint discovery
 * must be bypassed with an explicit endpoint.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { TWIN_DOCUMENT_OPTIONS } from './dynamodb.ts';

export interface AwsClients {
  readonly doc: DynamoDBDocumentClient;
  readonly kinesis: KinesisClient;
  readonly s3: S3Client;
  readonly events: EventBridgeClient;
  readonly sagemaker: SageMakerRuntimeClient;
  readonly timestream: TimestreamWriteClient;
}

/** Creates the clients; `capture` lets the handler hand each to the tracer. */
export function createAwsClients(
  env: Readonly<Record<string, string | undefined>>,
  capture: <T>(client: T) => T = (c) => c,
): AwsClients {
  // HTTP/1.1 keeps Kinesis working against stand-ins too (the default HTTP/2 handler fails there).
  const kinesis = capture(new KinesisClient({ requestHandler: new NodeHttpHandler() }));
  const timestreamEndpoint = env.AWS_ENDPOINT_URL_TIMESTREAM_WRITE;
  return {
    doc: DynamoDBDocumentClient.from(capture(new DynamoDBClient({})), TWIN_DOCUMENT_OPTIONS),
    kinesis,
    s3: capture(new S3Client({})),
    events: capture(new EventBridgeClient({})),
    sagemaker: capture(new SageMakerRuntimeClient({})),
    timestream: capture(new TimestreamWriteClient(timestreamEndpoint ? { endpoint: timestreamEndpoint } : {})),
  };
}
