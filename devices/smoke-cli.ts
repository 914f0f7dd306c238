/** `pdm smoke --stage S [--region R]`: wires devices/smoke.ts to AWS (IoT Core, SQS, SNS, DynamoDB). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeEndpointCommand, GetPolicyCommand, IoTClient } from '@aws-sdk/client-iot';
import { SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { type Command, InvalidArgumentError } from 'commander';
import { AthenaHistoryQuery } from '../lambdas/adapters/aws/history-athena.ts';
import { historyNames } from '../lambdas/core/history/names.ts';
import { assetTableCounts } from '../lambdas/core/history/queries.ts';
import { HISTORY_TABLES } from '../lambdas/core/history/tables.ts';
import { wireTopic } from '../lib/ingest/topics.ts';
import { runFleet } from './client.ts';
import { FleetSimulator } from './fleet.ts';
import { policyUsesBasicIngest, AMAZON_ROOT_CA1_URL } from './provision-cli.ts';
import { type ProvisionContext, registerDevice, revokeDevice, stageNames, writeRootCa } from './provision.ts';
import { formatSmoke, runSmoke, type SmokeDeps } from './smoke.ts';

export class SmokeSetupError extends Error {
  override readonly name: string = 'SmokeSetupError';
}

export interface SmokeClients {
  readonly iot: IoTClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly doc: DynamoDBDocumentClient;
  readonly athena: AthenaClient;
}

/** The history part: the smoke asset's rows per table, and their removal, through the stage's Athena workgroup. */
export function historyDeps(athena: AthenaClient, stage: string): Pick<SmokeDeps, 'countHistoryRows' | 'deleteHistoryRows'> {
  const names = historyNames(stage);
  const engine = new AthenaHistoryQuery(athena, { workgroup: names.workgroup, database: names.database });
  return {
    async countHistoryRows(assetId, sinceMs) {
      const q = assetTableCounts(assetId, sinceMs);
      const rows = await engine.query(q.sql, q.params);
      const counts: Record<string, number> = {};
      for (const r of rows) counts[String(r['table_name'])] = Number(r['n']);
      return counts;
    },
    async deleteHistoryRows(assetId) {
      // Iceberg tables take row-level DELETE in Athena (docs.aws.amazon.com/athena/latest/ug/delete-statement.html).
      for (const table of HISTORY_TABLES) await engine.query(`DELETE FROM ${table} WHERE asset_id = ?`, [assetId]);
    },
  };
}

/** The SQS/SNS part: a queue subscribed (raw delivery) to the critical and warning topics of `stage`. */
export function queueDeps(c: Pick<SmokeClients, 'sqs' | 'sns'>, stage: string, runId: string): Pick<SmokeDeps, 'subscribeQueue' | 'receiveAlerts' | 'unsubscribeQueue'> {
  const subscriptions: string[] = [];
  let queueUrl: string | undefined;
  return {
    async subscribeQueue() {
      const created = await c.sqs.send(new CreateQueueCommand({ QueueName: `pdm-${stage}-smoke-${runId}`, Attributes: { SqsManagedSseEnabled: 'true' } }));
      queueUrl = created.QueueUrl;
      if (!queueUrl) throw new SmokeSetupError('CreateQueue returned no URL');
      const attrs = await c.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
      const queueArn = attrs.Attributes?.['QueueArn'];
      if (!queueArn) throw new SmokeSetupError('GetQueueAttributes returned no QueueArn');
      // The queue's ARN names the account and region the topics live in.
      const [, partition, , region, account] = queueArn.split(':');
      const topics = ['critical', 'warning'].map((t) => `arn:${partition}:sns:${region}:${account}:pdm-${stage}-${t}`);
      const policy = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: queueArn, Condition: { ArnEquals: { 'aws:SourceArn': topics } } }],
      };
      await c.sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { Policy: JSON.stringify(policy) } }));
      for (const topic of topics) {
        const s = await c.sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'sqs', Endpoint: queueArn, Attributes: { RawMessageDelivery: 'true' }, ReturnSubscriptionArn: true }));
        if (s.SubscriptionArn) subscriptions.push(s.SubscriptionArn);
      }
      return queueUrl;
    },
    async receiveAlerts(queue, assetId) {
      const res = await c.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 10 }));
      const states: string[] = [];
      for (const m of res.Messages ?? []) {
        try {
          const event = JSON.parse(m.Body ?? '') as { detail?: { assetId?: string; to?: string } };
          if (event.detail?.assetId === assetId && typeof event.detail.to === 'string') states.push(event.detail.to);
        } catch {
          // Not an alert event (e.g. a subscription confirmation); ignored.
        }
      }
      const handles = (res.Messages ?? []).flatMap((m, i) => (m.ReceiptHandle ? [{ Id: String(i), ReceiptHandle: m.ReceiptHandle }] : []));
      if (handles.length > 0) await c.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queue, Entries: handles }));
      return states;
    },
    async unsubscribeQueue(queue) {
      for (const arn of subscriptions.splice(0)) await c.sns.send(new UnsubscribeCommand({ SubscriptionArn: arn }));
      await c.sqs.send(new DeleteQueueCommand({ QueueUrl: queue }));
    },
  };
}

function awsDeps(c: SmokeClients, stage: string, runId: string): SmokeDeps & { readonly dispose: () => void } {
  const names = stageNames(stage);
  const outDir = mkdtempSync(join(tmpdir(), 'pdm-smoke-'));
  const ctx: ProvisionContext = { iot: c.iot, doc: c.doc, names, outDir };
  let endpoint = '';
  let basicIngest = false;
  return {
    ...queueDeps(c, stage, runId),
    ...historyDeps(c.athena, stage),
    async provisionDevice(asset) {
      const res = await fetch(AMAZON_ROOT_CA1_URL);
      if (!res.ok) throw new SmokeSetupError(`cannot download ${AMAZON_ROOT_CA1_URL} (HTTP ${res.status})`);
      writeRootCa(outDir, await res.text());
      endpoint = (await c.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }))).endpointAddress ?? '';
      basicIngest = policyUsesBasicIngest((await c.iot.send(new GetPolicyCommand({ policyName: names.devicePolicyName }))).policyDocument ?? '');
      await registerDevice(ctx, asset);
    },
    async publish(asset, ticks) {
      const intervalMs = 60_000;
      const simulator = new FleetSimulator([asset], { seed: 7, start: Date.now() - (ticks - 1) * intervalMs, intervalMs });
      const summary = await runFleet({
        simulator,
        iot: { endpoint, ca: join(outDir, 'AmazonRootCA1.pem'), certDir: outDir },
        speed: Number.POSITIVE_INFINITY,
        ticks,
        ...(basicIngest ? { wireTopic: (t: string) => wireTopic(t, { stage, basicIngest: true }) } : {}),
      });
      return summary.messages.published;
    },
    async readTwin(assetId) {
      const res = await c.doc.send(new GetCommand({ TableName: `pdm-${stage}-twins`, Key: { assetId } }));
      if (!res.Item) return undefined;
      return typeof res.Item['healthState'] === 'string' ? (res.Item['healthState'] as string) : 'present';
    },
    async deleteAssetData(assetId) {
      await c.doc.send(new DeleteCommand({ TableName: names.assetsTable, Key: { assetId } }));
      await c.doc.send(new DeleteCommand({ TableName: `pdm-${stage}-twins`, Key: { assetId } }));
    },
    async revokeDevice(assetId) {
      await revokeDevice(ctx, assetId);
    },
    now: () => Date.now(),
    sleep: (ms) => sleep(ms),
    dispose: () => rmSync(outDir, { recursive: true, force: true }),
  };
}

/** Adds `smoke` to the program. */
export function register(program: Command): void {
  program
    .command('smoke')
    .description('after cdk deploy: publish a degrading test asset through IoT Core and check its twin, alert and history rows, then clean up')
    .requiredOption('--stage <stage>', 'deployed stage', (v: string) => {
      if (!/^[a-z][a-z0-9-]{0,11}$/.test(v)) throw new InvalidArgumentError('a stage is 1–12 lower-case letters, digits or hyphens');
      return v;
    })
    .option('--region <region>', 'AWS region (default: the SDK default)')
    .option('--wait <s>', 'seconds to wait for the twin, the alert and the history rows, each', (v: string) => {
      const n = Number(v);
      if (!(n > 0)) throw new InvalidArgumentError('expected seconds > 0');
      return n;
    }, 600)
    .option('--json', 'print one JSON report')
    .action(async (opts: { stage: string; region?: string; wait: number; json?: boolean }) => {
      const config = opts.region ? { region: opts.region } : {};
      const clients: SmokeClients = { iot: new IoTClient(config), sqs: new SQSClient(config), sns: new SNSClient(config), doc: DynamoDBDocumentClient.from(new DynamoDBClient(config)), athena: new AthenaClient(config) };
      const runId = String(Date.now());
      const deps = awsDeps(clients, opts.stage, runId);
      try {
        const report = await runSmoke(deps, { assetId: `smoke-${runId}`, waitMs: opts.wait * 1000 });
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${formatSmoke(report)}\n`);
        if (!report.passed) process.exitCode = 1;
      } finally {
        deps.dispose();
      }
    });
}
