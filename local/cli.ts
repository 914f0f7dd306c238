/**
 * `pdm local` (= `npm start`) and `pdm ingest`: the embedded local runtime from the command line.
 * `bin/pdm.ts` calls {@link register}; everything here is option parsing and printing.
 */
import { closeSync, createReadStream, existsSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { TwinHealthChangedDetail } from '../lambdas/core/alerts/policy.ts';
import type { DashboardSource } from './dashboard/source.ts';
import { type LocalRuntime, type RunSummary, startLocalRuntime } from './runtime/runtime.ts';
import { DEFAULT_DRIFT_AT_TICK, SCENARIOS, type ScenarioName } from '../devices/scenario.ts';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** A TCP port, 0 for a free one. */
export function tcpPort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function probability(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a number between 0 and 1');
  return n;
}

const out = (line: string) => process.stdout.write(`${line}\n`);

interface DashboardHandle {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts the dashboard server if it is part of this checkout (it is built separately). */
async function maybeDashboard(source: DashboardSource, port?: number): Promise<DashboardHandle | null> {
  const file = join(import.meta.dirname, 'dashboard', 'server.ts');
  if (!existsSync(file)) return null;
  const mod = (await import(pathToFileURL(file).href)) as {
    startDashboard?: (o: { source: DashboardSource; port?: number }) => Promise<DashboardHandle>;
  };
  return mod.startDashboard ? mod.startDashboard({ source, ...(port !== undefined ? { port } : {}) }) : null;
}

function formatAlert(a: TwinHealthChangedDetail): string {
  const who = a.scope === 'component' ? `${a.assetId}/${a.component ?? '?'}` : a.assetId;
  const top = a.topContributors.map((c) => `${c.sensor} ${(c.share * 100).toFixed(0)}%`).join(', ');
  return (
    `${a.at}  ALERT ${a.severity.toUpperCase().padEnd(8)} ${who.padEnd(22)} ${a.from} → ${a.to}` +
    `  risk ${a.scores.risk.toFixed(2)}  top: ${top || '-'}  est. saving $${a.estimatedCostAvoidedUsd}`
  );
}

function formatSummary(s: RunSummary): string[] {
  return [
    `messages  received ${s.messages.received}  accepted ${s.messages.accepted}  quarantined ${s.messages.quarantined}`,
    `samples   received ${s.samples.received}  clean ${s.samples.clean}  quarantined ${s.samples.quarantined}`,
    `quarantine by reason  ${JSON.stringify(s.byReason)}`,
    `refused   publishes ${s.refused.publishes}  connects ${s.refused.connects}   on-failure ${s.onFailure}`,
    `twins ${s.twins}  states ${JSON.stringify(s.states)}  alerts ${JSON.stringify(s.alerts)}`,
    `latency publish → twin  p50 ${s.latencyMs.p50 ?? '-'} ms  p99 ${s.latencyMs.p99 ?? '-'} ms  (${s.latencyMs.n} samples)`,
    `throughput  ${s.throughput.messagesPerSec} msg/s  ${s.throughput.readingsPerSec} readings/s over ${s.throughput.seconds} s`,
  ];
}

/** Stops the runtime on Ctrl-C (once; a second Ctrl-C exits at once). */
function onInterrupt(stop: () => void): () => void {
  let count = 0;
  const handler = () => {
    count += 1;
    if (count > 1) process.exit(130);
    stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

interface LocalOpts {
  assets: number;
  speed: number;
  duration?: number;
  dashboard: boolean;
  port?: number;
  dataDir?: string;
  json?: boolean;
  faultRate: number;
  seed: number;
  scoring: 'in-lambda' | 'endpoint';
  shadow: boolean;
  alertsJsonl?: string;
  webhook?: string;
  scenario: ScenarioName;
  driftAt?: number;
  driftMinCount?: number;
}

async function runLocal(opts: LocalOpts): Promise<void> {
  const json = opts.json === true;
  const runtime = await startLocalRuntime({
    assets: opts.assets,
    seed: opts.seed,
    faultRate: opts.faultRate,
    scoring: opts.scoring,
    shadow: opts.shadow,
    logLevel: json ? 'SILENT' : 'ERROR',
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    alerts: {
      ...(opts.alertsJsonl ? { jsonlPath: opts.alertsJsonl } : opts.dataDir ? { jsonlPath: join(opts.dataDir, 'alerts.jsonl') } : {}),
      ...(opts.webhook ? { webhookUrl: opts.webhook } : {}),
    },
    ...(json ? {} : { onAlert: (a: TwinHealthChangedDetail) => a.severity !== 'info' && out(formatAlert(a)) }),
    onFailure: (r) => !json && out(`on-failure: ${r.stream} ${r.sequenceNumber} (${r.partitionKey}) after ${r.attempts} attempts`),
    ...(opts.scenario === 'drift' ? { scenario: { name: 'drift' as const, atTick: opts.driftAt ?? DEFAULT_DRIFT_AT_TICK } } : {}),
    ...(opts.driftMinCount !== undefined ? { drift: { minCount: opts.driftMinCount } } : {}),
  });
  let dashboard: DashboardHandle | null = null;
  if (opts.dashboard) dashboard = await maybeDashboard(runtime, opts.port);
  if (!json) {
    out(`pdm local: ${opts.assets} assets, speed ${opts.speed}× (one 10-min tick every ${(600 / opts.speed).toFixed(2)} s)`);
    if (opts.scenario === 'drift') {
      out(`  scenario drift: new operating regime and sensor recalibration from tick ${opts.driftAt ?? DEFAULT_DRIFT_AT_TICK}; wear recurs`);
    }
    out(`  MQTT broker ${runtime.brokerUrl}` + (opts.dataDir ? `  data dir ${opts.dataDir}` : ''));
    out(`  device credentials ${runtime.credentialsFile} (pdm simulate --broker ${runtime.brokerUrl} --credentials <file>)`);
    if (dashboard) out(`  dashboard ${dashboard.url}`);
    else if (opts.dashboard) out('  dashboard: not available in this checkout');
    out('  Ctrl-C stops.');
  }
  const status = json ? undefined : setInterval(() => void printStatus(runtime), 5_000);
  const release = onInterrupt(() => void runtime.stopSimulation());
  try {
    await runtime.simulate({ speed: opts.speed, ...(opts.duration !== undefined ? { durationMs: opts.duration * 1000 } : {}) });
    await runtime.drain(120_000);
    const summary = await runtime.summary();
    if (json) out(JSON.stringify(summary));
    else {
      out('');
      for (const line of formatSummary(summary)) out(line);
    }
  } finally {
    if (status) clearInterval(status);
    release();
    await dashboard?.stop();
    await runtime.stop();
  }
}

async function printStatus(runtime: LocalRuntime): Promise<void> {
  const s = await runtime.summary();
  out(
    `[${s.sim?.clock ?? '-'}] msgs ${s.messages.received} (quarantined ${s.messages.quarantined})  ` +
      `twins ${JSON.stringify(s.states)}  alerts ${JSON.stringify(s.alerts)}  ` +
      `p50 ${s.latencyMs.p50 ?? '-'} ms p99 ${s.latencyMs.p99 ?? '-'} ms`,
  );
}

export interface IngestLine {
  readonly topic: string;
  /** The message as sent: text (`payload`), or bytes (`payloadBase64`, e.g. a capture that is not UTF-8). */
  readonly payload: string | Buffer;
  /**
   * When the capture's broker received it (the IoT rule's `timestamp()`, epoch ms), when the line says;
   * otherwise the ingest clock stamps it at publish.
   */
  readonly receivedAt?: number;
}

/** Lines being published at once (of different devices). */
const INGEST_CONCURRENCY = 16;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parses one line of an ingest file; a string says what is wrong with it. */
export function parseIngestLine(line: string): IngestLine | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const { topic, payload, payloadBase64, receivedAt } = value as Record<string, unknown>;
  if (typeof topic !== 'string' || topic.length === 0) return 'missing "topic" string';
  if (payload !== undefined && payloadBase64 !== undefined) return 'both "payload" and "payloadBase64": give one';
  let stamp: number | undefined;
  if (receivedAt !== undefined) {
    stamp = receiveTime(receivedAt);
    if (stamp === undefined) return '"receivedAt" is not epoch milliseconds or an ISO-8601 time (years 2000–2100)';
  }
  const at = stamp !== undefined ? { receivedAt: stamp } : {};
  if (typeof payload === 'string') return { topic, payload, ...at };
  if (typeof payloadBase64 === 'string') {
    if (!BASE64.test(payloadBase64)) return '"payloadBase64" is not base64';
    return { topic, payload: Buffer.from(payloadBase64, 'base64'), ...at };
  }
  return 'missing "payload" or "payloadBase64" string';
}

const YEAR_2000 = Date.UTC(2000, 0, 1);
const YEAR_2100 = Date.UTC(2100, 0, 1);

/** A capture's receive time as epoch ms: an integer in 2000–2100, or an ISO-8601 text; else undefined. */
function receiveTime(value: unknown): number | undefined {
  const t = typeof value === 'number' ? value : typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isInteger(t) && t >= YEAR_2000 && t < YEAR_2100 ? t : undefined;
}

export interface IngestSummary extends RunSummary {
  readonly lines: number;
  readonly published: number;
  readonly fileErrors: number;
  readonly fileErrorSamples: readonly { line: number; error: string }[];
}

export interface IngestOptions {
  readonly file: string;
  readonly assets?: number;
  readonly seed?: number;
  readonly dataDir?: string;
  readonly progress?: boolean;
  readonly logLevel?: 'ERROR' | 'SILENT';
  /**
   * Starts the ingest's receive clock at this time (epoch ms) instead of now; it then advances with
   * real time, as a broker's clock does. Lines with their own `receivedAt` keep it. @default now
   */
  readonly clockStart?: number;
}

/**
 * Publishes every line through the broker as the device its topic names, then waits until the
 * pipeline has processed everything. Each message is stamped with a receive time as IoT Core's
 * `timestamp()` would: the line's own `receivedAt` (a capture that recorded it), else the ingest clock
 * (now, or `clockStart` advancing in real time). Never the payload's own clock: a device's timestamps
 * are what cleaning judges (future, stale), so they cannot also be the reference they are judged by.
 */
export async function ingestFile(options: IngestOptions): Promise<IngestSummary> {
  const runtime = await startLocalRuntime({
    assets: options.assets ?? 12,
    seed: options.seed ?? 1,
    logLevel: options.logLevel ?? 'SILENT',
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  try {
    const bar =
      options.progress && statSync(options.file).size > 256 * 1024
        ? new cliProgress.SingleBar({ stream: process.stderr, format: 'ingest [{bar}] {percentage}% {value}/{total} bytes' })
        : null;
    bar?.start(statSync(options.file).size, 0);
    let lines = 0;
    let bytes = 0;
    let published = 0;
    let fileErrors = 0;
    const samples: { line: number; error: string }[] = [];
    const started = Date.now();
    const chains = new Map<string, Promise<void>>();
    const inFlight = new Set<Promise<void>>();
    const clockAt = () => (options.clockStart ?? started) + (Date.now() - started);
    const rl = createInterface({ input: createReadStream(options.file, 'utf8'), crlfDelay: Infinity });
    for await (const text of rl) {
      lines += 1;
      bytes += Buffer.byteLength(text) + 1;
      if (lines % 500 === 0) bar?.update(bytes);
      if (text.trim().length === 0) {
        lines -= 1; // blank lines are not records
        continue;
      }
      const parsed = parseIngestLine(text);
      if (typeof parsed === 'string') {
        fileErrors += 1;
        if (samples.length < 20) samples.push({ line: lines, error: parsed });
        continue;
      }
      const device = parsed.topic.split('/')[2] || 'unnamed-device';
      const receivedAt = parsed.receivedAt ?? clockAt();
      // A device's lines go one after the other (its order is its seq order, and a refusal closes its
      // connection); different devices' lines go in parallel, as devices do.
      const previous = chains.get(device) ?? Promise.resolve();
      const next = previous.then(async () => {
        if ((await runtime.publishAs(device, parsed.topic, parsed.payload, { receivedAt })) === 'accepted') published += 1;
      });
      chains.set(device, next);
      inFlight.add(next);
      void next.finally(() => {
        inFlight.delete(next);
        if (chains.get(device) === next) chains.delete(device);
      });
      if (inFlight.size >= INGEST_CONCURRENCY) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    bar?.update(bytes);
    bar?.stop();
    await runtime.drain(300_000);
    const summary = await runtime.summary();
    return { ...summary, lines, published, fileErrors, fileErrorSamples: samples };
  } finally {
    await runtime.stop();
  }
}

export function register(program: Command): void {
  program
    .command('local')
    .description('run the embedded local runtime: simulated fleet → MQTT → stand-ins → the real handlers')
    .option('--assets <n>', 'simulated assets', positiveInt, 12)
    .option('--speed <x>', 'simulated seconds per real second', positiveNumber, 1200)
    .option('--duration <s>', 'stop after this many real seconds (default: until Ctrl-C)', positiveNumber)
    .option('--no-dashboard', 'do not start the web dashboard')
    .option('--port <n>', 'dashboard port on 127.0.0.1 (default: a free one)', tcpPort)
    .option('--data-dir <dir>', 'persist state here; a restart resumes where it stopped')
    .option('--json', 'print one JSON summary at the end instead of the live log')
    .option('--fault-rate <p>', 'share of damaged device messages', probability, 0.02)
    .option('--seed <n>', 'fleet and simulation seed', positiveInt, 1)
    .addOption(
      new Option('--scoring <mode>', 'in-lambda, or endpoint (a local SageMaker-protocol server)').choices(['in-lambda', 'endpoint']).default('in-lambda'),
    )
    .option('--no-shadow', "do not score the bundle's shadow challengers (stage option models.shadow = false)")
    .option('--alerts-jsonl <file>', 'append every SNS delivery (critical/warning topics, transitions log) as JSON lines')
    .option('--webhook <url>', 'POST each SNS delivery here (SNS HTTP notification format)')
    .addOption(new Option('--scenario <name>', 'default fleet, or drift: the fleet shifts at --drift-at (docs/simulator.md)').choices([...SCENARIOS]).default('default'))
    .option('--drift-at <tick>', `tick (10 simulated minutes each) the drift scenario shifts the fleet at (default ${DEFAULT_DRIFT_AT_TICK}: day 5)`, nonNegativeInt)
    .option('--drift-min-count <n>', 'rows a drift window needs for a PSI (default 500, as in AWS)', positiveInt)
    .action((opts: LocalOpts) => {
      if (opts.driftAt !== undefined && opts.scenario !== 'drift') throw new InvalidArgumentError('--drift-at needs --scenario drift');
      return runLocal(opts);
    });

  program
    .command('ingest')
    .description('publish a JSONL file of {topic, payload} lines through the local broker and report')
    .requiredOption('--file <path>', 'JSONL file, one {"topic": "...", "payload": "<raw message>"} (or "payloadBase64": "<bytes>") per line')
    .option('--assets <n>', 'registered fleet size (the devices allowed to publish)', positiveInt, 12)
    .option('--seed <n>', 'fleet seed', positiveInt, 1)
    .option('--data-dir <dir>', 'persist state here')
    .option('--json', 'print one JSON object')
    .option('--clock-start <iso>', 'receive clock of lines without "receivedAt" starts here (default: now)', (v) => {
      const t = Date.parse(v);
      if (!/^\d{4}-\d\d-\d\dT/.test(v) || !Number.isFinite(t)) throw new InvalidArgumentError('expected an ISO-8601 time, e.g. 2026-01-15T12:00:00Z');
      return t;
    })
    .action(async (opts: { file: string; assets: number; seed: number; dataDir?: string; json?: boolean; clockStart?: number }) => {
      // A missing or unreadable file is reported before the runtime starts (pdm's handler names it).
      closeSync(openSync(opts.file, 'r'));
      const summary = await ingestFile({
        file: opts.file,
        assets: opts.assets,
        seed: opts.seed,
        progress: !opts.json,
        ...(opts.clockStart !== undefined ? { clockStart: opts.clockStart } : {}),
        ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
      });
      if (opts.json) {
        out(JSON.stringify(summary));
        return;
      }
      out(`lines ${summary.lines}  published ${summary.published}  file errors ${summary.fileErrors}`);
      for (const e of summary.fileErrorSamples) out(`  line ${e.line}: ${e.error}`);
      for (const line of formatSummary(summary)) out(line);
    });
}
