import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertMessageAttributes } from '../../../local/sns/attributes.ts';
import { InvalidFilterPolicyError, InvalidMessageAttributeError } from '../../../local/sns/filter-policy.ts';
import { createLocalSns, summarizeMessage } from '../../../local/sns/local-sns.ts';
import { type Receiver, deadUrl, startReceiver } from './helpers.ts';

let dir: string;
const receivers: Receiver[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-sns-'));
});
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
  await rm(dir, { recursive: true, force: true });
});

const instant = { sleep: async () => undefined };
const quiet = { print: () => undefined, onError: () => undefined };
const attrs = (severity: 'critical' | 'warning', siteId: string) => alertMessageAttributes({ severity, siteId, assetModel: 'turbofan' });
const readLines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('createLocalSns', () => {
  it('delivers only critical alerts of site-a to a filtered subscription', async () => {
    // Arrange
    const sns = createLocalSns({ ...quiet, subscriptions: [{ topic: 'critical', id: 'site-a-oncall', filterPolicy: { severity: ['critical'], siteId: ['site-a'] } }] });
    // Act
    const a = await sns.publish('critical', '{}', attrs('critical', 'site-a'));
    const b = await sns.publish('critical', '{}', attrs('critical', 'site-b'));
    const c = await sns.publish('warning', '{}', attrs('warning', 'site-a'));
    // Assert
    expect([a.deliveredTo, b.deliveredTo, c.deliveredTo]).toEqual([['site-a-oncall'], [], []]);
    expect(sns.stats).toMatchObject({ published: 3, delivered: 1, filteredOut: 1 });
  });

  it('delivers every topic to an implicit unfiltered subscription when none are configured', async () => {
    const sns = createLocalSns(quiet);
    const r = await sns.publish('warning', 'hello');
    expect(r.deliveredTo).toEqual(['warning']);
  });

  it('delivers one copy per matching subscription', async () => {
    const sns = createLocalSns({
      ...quiet,
      subscriptions: [
        { topic: 'critical', id: 'all' },
        { topic: 'critical', id: 'site-a', filterPolicy: { siteId: ['site-a'] } },
        { topic: 'critical', id: 'body', filterPolicy: { detail: { siteId: ['site-a'] } }, filterPolicyScope: 'MessageBody' },
      ],
    });
    const r = await sns.publish('critical', JSON.stringify({ detail: { siteId: 'site-a' } }), attrs('critical', 'site-a'));
    expect(r.deliveredTo).toEqual(['all', 'site-a', 'body']);
  });

  it('prints one concise line per delivery', async () => {
    // Arrange
    const lines: string[] = [];
    const sns = createLocalSns({ print: (l) => lines.push(l) });
    const detail = { severity: 'critical', siteId: 'site-a', assetId: 'pump-7', assetModel: 'centrifugal-pump', from: 'WARNING', to: 'CRITICAL', scores: { risk: 0.931 } };
    // Act
    await sns.publish('critical', JSON.stringify({ source: 'pdm.twin', detail }));
    // Assert
    expect(lines).toEqual(['[sns critical→critical] critical site-a/pump-7 (centrifugal-pump) WARNING→CRITICAL risk=0.93']);
  });

  it('appends valid JSON lines carrying the message attributes', async () => {
    // Arrange
    const path = join(dir, 'nested', 'alerts.jsonl');
    const sns = createLocalSns({ ...quiet, jsonlPath: path });
    // Act
    const first = await sns.publish('critical', '{"n":1}', attrs('critical', 'site-a'));
    await sns.publish('warning', 'plain text', attrs('warning', 'site-b'));
    await sns.log('transition', { route: 'AllTransitions' }, 'line');
    await sns.flush();
    // Assert
    const lines = await readLines(path);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      kind: 'sns',
      topic: 'critical',
      topicArn: 'arn:aws:sns:us-east-1:000000000000:critical',
      messageId: first.messageId,
      message: '{"n":1}',
      messageAttributes: { severity: { DataType: 'String', StringValue: 'critical' }, siteId: { DataType: 'String', StringValue: 'site-a' } },
    });
    expect(lines[1]).toMatchObject({ topic: 'warning', message: 'plain text', messageAttributes: { siteId: { StringValue: 'site-b' } } });
    expect(lines[2]).toMatchObject({ kind: 'transition', route: 'AllTransitions' });
  });

  it('posts SNS HTTP notifications to the webhook', async () => {
    // Arrange
    const hook = await startReceiver();
    receivers.push(hook);
    const sns = createLocalSns({ ...quiet, webhookUrl: hook.url });
    // Act
    const r = await sns.publish('critical', '{"alert":1}', attrs('critical', 'site-a'));
    // Assert
    expect(hook.received).toHaveLength(1);
    const req = hook.received[0]!;
    expect(req.headers['x-amz-sns-message-type']).toBe('Notification');
    expect(req.headers['x-amz-sns-message-id']).toBe(r.messageId);
    expect(req.headers['x-amz-sns-topic-arn']).toBe('arn:aws:sns:us-east-1:000000000000:critical');
    expect(JSON.parse(req.body)).toMatchObject({
      Type: 'Notification',
      MessageId: r.messageId,
      Message: '{"alert":1}',
      MessageAttributes: { severity: { Type: 'String', Value: 'critical' }, assetModel: { Type: 'String', Value: 'turbofan' } },
    });
    expect(sns.stats).toMatchObject({ webhookSent: 1, webhookFailed: 0 });
  });

  it('does not throw when the webhook is down, and logs and counts the failure', async () => {
    // Arrange
    const errors: string[] = [];
    const sns = createLocalSns({ print: () => undefined, onError: (m) => errors.push(m), webhookUrl: await deadUrl(), webhook: { retry: { ...instant, attempts: 2 } } });
    // Act
    const r = await sns.publish('critical', 'x', attrs('critical', 'site-a'));
    // Assert
    expect(r.deliveredTo).toEqual(['critical']);
    expect(sns.stats).toMatchObject({ webhookSent: 0, webhookFailed: 1 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/after 2 attempt\(s\)/);
  });

  it('retries a failing webhook a bounded number of times', async () => {
    // Arrange: 503 twice, then 200.
    const hook = await startReceiver((n) => (n <= 2 ? 503 : 200));
    receivers.push(hook);
    const sns = createLocalSns({ ...quiet, webhookUrl: hook.url, webhook: { retry: { ...instant, attempts: 3 } } });
    // Act
    await sns.publish('critical', 'x');
    // Assert
    expect(hook.received).toHaveLength(3);
    expect(sns.stats.webhookSent).toBe(1);
  });

  it('stops after the configured attempts and does not retry a 4xx answer', async () => {
    const always500 = await startReceiver(() => 500);
    const always400 = await startReceiver(() => 400);
    receivers.push(always500, always400);
    const retry = { ...instant, attempts: 3 };
    await createLocalSns({ ...quiet, webhookUrl: always500.url, webhook: { retry } }).publish('critical', 'x');
    await createLocalSns({ ...quiet, webhookUrl: always400.url, webhook: { retry } }).publish('critical', 'x');
    expect([always500.received.length, always400.received.length]).toEqual([3, 1]);
  });

  it('gives up on a webhook that does not answer within the timeout', async () => {
    // Arrange
    const hook = await startReceiver(() => 'hang');
    receivers.push(hook);
    const errors: string[] = [];
    const sns = createLocalSns({ print: () => undefined, onError: (m) => errors.push(m), webhookUrl: hook.url, webhook: { timeoutMs: 100, retry: { attempts: 1 } } });
    // Act
    const started = performance.now();
    await sns.publish('critical', 'x');
    // Assert
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(errors[0]).toMatch(/timed out after 100 ms/);
  });

  it('keeps going when the JSONL file cannot be written', async () => {
    const errors: string[] = [];
    const sns = createLocalSns({ print: () => undefined, onError: (m) => errors.push(m), jsonlPath: join(dir, 'file-as-dir', 'x.jsonl') });
    await import('node:fs/promises').then((fs) => fs.writeFile(join(dir, 'file-as-dir'), 'not a folder'));
    await expect(sns.publish('critical', 'x')).resolves.toMatchObject({ deliveredTo: ['critical'] });
    expect(sns.stats.fileErrors).toBe(1);
    expect(errors).toHaveLength(1);
  });

  it('rejects a malformed filter policy at creation', () => {
    expect(() => createLocalSns({ ...quiet, subscriptions: [{ topic: 'critical', filterPolicy: { severity: 'critical' } }] })).toThrow(InvalidFilterPolicyError);
  });

  it('rejects a publish with a malformed attribute, as SNS Publish does', async () => {
    const sns = createLocalSns(quiet);
    await expect(sns.publish('critical', 'x', { n: { DataType: 'Number', StringValue: 'abc' } })).rejects.toBeInstanceOf(InvalidMessageAttributeError);
  });
});

describe('summarizeMessage', () => {
  it('truncates non-alert messages to 120 characters', () => {
    expect(summarizeMessage('y'.repeat(500))).toHaveLength(120);
  });
});
