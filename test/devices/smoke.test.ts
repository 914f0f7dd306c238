import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { historyDeps, queueDeps } from '../../devices/smoke-cli.ts';
import { HISTORY_TABLES } from '../../lambdas/core/history/tables.ts';
import { formatSmoke, runSmoke, type SmokeDeps, smokeAsset } from '../../devices/smoke.ts';

/** Fake AWS: a clock advanced by sleep, and a log of calls. */
function fakeDeps(over: Partial<SmokeDeps> = {}): SmokeDeps & { calls: string[] } {
  let t = 0;
  const calls: string[] = [];
  return {
    calls,
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
    provisionDevice: async (a) => {
      calls.push(`provision ${a.assetId}`);
      t += 1500;
    },
    subscribeQueue: async () => (calls.push('subscribe'), 'q-url'),
    publish: async (_a, ticks) => (calls.push(`publish ${ticks}`), ticks),
    readTwin: async () => (t >= 20_000 ? 'WARNING' : undefined),
    receiveAlerts: async () => (t >= 60_000 ? ['WARNING'] : []),
    countHistoryRows: async (): Promise<Record<string, number>> => (t >= 90_000 ? { telemetry: 30, features: 30, predictions: 30, alerts: 0 } : { telemetry: 0 }),
    deleteHistoryRows: async (id) => void calls.push(`delete history ${id}`),
    unsubscribeQueue: async () => void calls.push('unsubscribe'),
    deleteAssetData: async (id) => void calls.push(`delete ${id}`),
    revokeDevice: async (id) => void calls.push(`revoke ${id}`),
    ...over,
  };
}

describe('runSmoke', () => {
  it('passes when the twin and an alert appear, reporting each step with its latency, and cleans up', async () => {
    const deps = fakeDeps();

    const r = await runSmoke(deps, { assetId: 'smoke-1', ticks: 30, waitMs: 120_000, pollMs: 5_000 });

    expect(r.passed).toBe(true);
    expect(r.steps.map((s) => s.name)).toEqual([
      'provision test device',
      'subscribe temporary queue',
      'publish through IoT Core',
      'twin in DynamoDB',
      'alert delivered to SQS',
      'history rows in Athena',
      'clean up: queue and subscriptions',
      'clean up: device',
      'clean up: asset and twin rows',
      'clean up: history rows',
    ]);
    expect(r.steps[0]!.ms).toBe(1500);
    expect(r.steps[3]).toMatchObject({ ok: true, detail: 'state WARNING' });
    expect(r.steps[4]).toMatchObject({ ok: true, detail: 'to WARNING' });
    expect(r.steps[5]).toMatchObject({ ok: true, detail: 'telemetry 30, features 30, predictions 30' });
    expect(deps.calls).toEqual(['provision smoke-1', 'subscribe', 'publish 30', 'unsubscribe', 'revoke smoke-1', 'delete smoke-1', 'delete history smoke-1']);
    expect(formatSmoke(r)).toMatch(/^PASS {2}provision test device/);
  });

  it('fails at the step that times out, skips the rest, and still cleans up', async () => {
    const deps = fakeDeps({ receiveAlerts: async () => [] });

    const r = await runSmoke(deps, { assetId: 'smoke-2', waitMs: 30_000, pollMs: 10_000 });

    expect(r.passed).toBe(false);
    const alert = r.steps.find((s) => s.name === 'alert delivered to SQS')!;
    expect(alert).toMatchObject({ ok: false, detail: 'Error: no alert after 30 s' });
    expect(deps.calls.slice(-4)).toEqual(['unsubscribe', 'revoke smoke-2', 'delete smoke-2', 'delete history smoke-2']);
    expect(formatSmoke(r)).toMatch(/smoke test FAILED \(smoke-2\)$/);
  });

  it('fails when no history rows arrive in time, and still removes what it published', async () => {
    const deps = fakeDeps({ countHistoryRows: async () => ({ telemetry: 12, features: 0 }) });

    const r = await runSmoke(deps, { assetId: 'smoke-6', waitMs: 100_000, pollMs: 10_000 });

    expect(r.passed).toBe(false);
    expect(r.steps.find((s) => s.name === 'history rows in Athena')).toMatchObject({ ok: false, detail: 'Error: no telemetry and feature rows after 100 s' });
    expect(deps.calls.at(-1)).toBe('delete history smoke-6');
  });

  it('fails when IoT Core acknowledges fewer messages than were sent', async () => {
    const r = await runSmoke(fakeDeps({ publish: async () => 3 }), { assetId: 'smoke-3', ticks: 10 });

    expect(r.steps.find((s) => s.name === 'publish through IoT Core')).toMatchObject({ ok: false, detail: 'Error: 3/10 messages acknowledged' });
    expect(r.steps.some((s) => s.name === 'twin in DynamoDB')).toBe(false);
  });

  it('cleans up nothing it did not create when provisioning fails', async () => {
    const deps = fakeDeps({
      provisionDevice: async () => {
        throw Object.assign(new Error('no policy'), { name: 'ResourceNotFoundException' });
      },
    });

    const r = await runSmoke(deps, { assetId: 'smoke-4' });

    expect(r.passed).toBe(false);
    expect(r.steps).toHaveLength(1);
    expect(r.steps[0]!.detail).toBe('ResourceNotFoundException: no policy');
    expect(deps.calls).toEqual([]);
  });

  it('degrades the test pump within the run', () => {
    const a = smokeAsset('smoke-5', 60);

    expect(a.degradation).toEqual({ component: 'bearing', startTick: 1, failTick: 36 });
  });
});

describe('smoke queue', () => {
  const sqsMock = mockClient(SQSClient);
  const snsMock = mockClient(SNSClient);
  beforeEach(() => {
    sqsMock.reset();
    snsMock.reset();
  });

  it('subscribes a raw-delivery queue to both alert topics, reads only its asset\'s alerts, and removes it all', async () => {
    sqsMock.on(CreateQueueCommand).resolves({ QueueUrl: 'https://sqs/q' });
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:pdm-dev-smoke-1' } });
    snsMock.on(SubscribeCommand).callsFake((input: { TopicArn: string }) => ({ SubscriptionArn: `${input.TopicArn}:sub` }));
    sqsMock.on(ReceiveMessageCommand).resolves({
      Messages: [
        { Body: JSON.stringify({ detail: { assetId: 'smoke-1', to: 'CRITICAL' } }), ReceiptHandle: 'h1' },
        { Body: JSON.stringify({ detail: { assetId: 'other', to: 'WARNING' } }), ReceiptHandle: 'h2' },
        { Body: 'not json', ReceiptHandle: 'h3' },
      ],
    });
    const q = queueDeps({ sqs: new SQSClient({ region: 'eu-west-1' }), sns: new SNSClient({ region: 'eu-west-1' }) }, 'dev', '1');

    const url = await q.subscribeQueue();
    const alerts = await q.receiveAlerts(url, 'smoke-1');
    await q.unsubscribeQueue(url);

    expect(snsMock.commandCalls(SubscribeCommand).map((c) => c.args[0].input)).toEqual(
      ['critical', 'warning'].map((t) => ({
        TopicArn: `arn:aws:sns:eu-west-1:123456789012:pdm-dev-${t}`,
        Protocol: 'sqs',
        Endpoint: 'arn:aws:sqs:eu-west-1:123456789012:pdm-dev-smoke-1',
        Attributes: { RawMessageDelivery: 'true' },
        ReturnSubscriptionArn: true,
      })),
    );
    const policy = JSON.parse(sqsMock.commandCalls(SetQueueAttributesCommand)[0]!.args[0].input.Attributes!['Policy']!) as { Statement: Array<{ Condition: unknown }> };
    expect(policy.Statement[0]!.Condition).toEqual({ ArnEquals: { 'aws:SourceArn': ['arn:aws:sns:eu-west-1:123456789012:pdm-dev-critical', 'arn:aws:sns:eu-west-1:123456789012:pdm-dev-warning'] } });
    expect(alerts).toEqual(['CRITICAL']);
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)[0]!.args[0].input.Entries).toHaveLength(3);
    expect(snsMock.commandCalls(UnsubscribeCommand)).toHaveLength(2);
    expect(sqsMock.commandCalls(DeleteQueueCommand)).toHaveLength(1);
  });
});

describe('smoke history', () => {
  const athena = mockClient(AthenaClient);
  beforeEach(() => athena.reset());

  it('counts the asset’s rows per table in the stage’s workgroup and deletes them from every table', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    const cell = (v: string) => ({ VarCharValue: v });
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: [{ Name: 'table_name', Type: 'varchar' }, { Name: 'n', Type: 'bigint' }] },
        Rows: [{ Data: [cell('table_name'), cell('n')] }, { Data: [cell('telemetry'), cell('30')] }, { Data: [cell('features'), cell('29')] }],
      },
    });
    const h = historyDeps(new AthenaClient({ region: 'eu-west-1' }), 'dev');

    const counts = await h.countHistoryRows('smoke-1', Date.UTC(2026, 0, 1));
    await h.deleteHistoryRows('smoke-1');

    expect(counts).toEqual({ telemetry: 30, features: 29 });
    const starts = athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(starts[0]).toMatchObject({ WorkGroup: 'pdm-dev-history', QueryExecutionContext: { Database: 'pdm_dev_history' } });
    expect(starts[0]!.ExecutionParameters).toContain("'smoke-1'");
    expect(starts.slice(1).map((s) => s.QueryString)).toEqual(HISTORY_TABLES.map((t) => `DELETE FROM ${t} WHERE asset_id = ?`));
    expect(starts.slice(1).every((s) => s.ExecutionParameters?.[0] === "'smoke-1'")).toBe(true);
  });
});
