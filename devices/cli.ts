/**
 * `pdm simulate`: runs the simulated fleet against a local broker or AWS IoT Core, or prints its
 * messages as JSONL (`--dry-run`) in the `{"topic","payload"}` form `pdm ingest --file` reads.
 */
import { readCredentials } from './credentials.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { runFleet, type RunFleetSummary, ticksFor } from './client.ts';
import { FAULT_KINDS, type InjectedFault, type RealismKind, type RealismOptions, realismPreset } from './faults.ts';
import { wireTopic } from '../lib/ingest/topics.ts';
import { createFleet, FleetSimulator } from './fleet.ts';
import { readDevicesManifest, ROOT_CA_FILE } from './provision-cli.ts';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function positiveNumber(value: string): number {
  const n = value === 'max' ? Number.POSITIVE_INFINITY : Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('expected a number > 0 (or "max" for no pacing)');
  return n;
}

function probability(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a number between 0 and 1');
  return n;
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n >= 0)) throw new InvalidArgumentError('expected a number ≥ 0');
  return n;
}

function instant(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected an ISO-8601 date-time or epoch milliseconds');
  return n;
}

function oneOf(allowed: readonly number[]): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!allowed.includes(n)) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}`);
    return n;
  };
}

/** Contradictory or incomplete `simulate` options. */
export class SimulateOptionsError extends Error {
  override readonly name: string = 'SimulateOptionsError';
}

/** Parses `--realism` values: a comma list of kinds, or `all`. */
export function parseRealismKinds(value: string): RealismKind[] {
  if (value === 'all' || value === '') return [...FAULT_KINDS];
  const kinds = value.split(',').map((k) => k.trim());
  for (const k of kinds)
    if (!(FAULT_KINDS as readonly string[]).includes(k))
      throw new InvalidArgumentError(`unknown realism kind "${k}"; known: ${FAULT_KINDS.join(', ')}, all`);
  return kinds as RealismKind[];
}

export interface SimulateCliOptions {
  readonly broker?: string;
  readonly credentials?: string;
  readonly iotEndpoint?: string;
  readonly certDir?: string;
  readonly ca?: string;
  readonly iotPort?: number;
  readonly dryRun?: boolean;
  readonly assets: number;
  readonly seed: number;
  readonly speed: number;
  readonly duration?: number;
  readonly ticks?: number;
  readonly interval: number;
  readonly start?: number;
  readonly samplesPerMessage: number;
  readonly faultRate: number;
  readonly failingShare: number;
  readonly realism?: string | boolean;
  readonly clockSkewMs?: number;
  readonly groundTruth?: string;
  readonly mqttVersion: number;
  readonly json?: boolean;
  /** Folder written by `pdm devices register`: certificates, root CA and devices.json. */
  readonly devices?: string;
}

/** Realism options from the command line: `--realism [kinds]` presets, `--clock-skew-ms` overrides the offset. */
export function realismFrom(opts: Pick<SimulateCliOptions, 'realism' | 'clockSkewMs'>): RealismOptions | undefined {
  const kinds =
    opts.realism === undefined || opts.realism === false
      ? []
      : parseRealismKinds(opts.realism === true ? 'all' : opts.realism);
  if (kinds.length === 0 && opts.clockSkewMs === undefined) return undefined;
  const preset = realismPreset(kinds);
  if (opts.clockSkewMs === undefined) return preset;
  return { ...preset, clockSkew: { jitterMs: 50, ...preset.clockSkew, maxOffsetMs: opts.clockSkewMs } };
}

/** Output streams, replaceable in tests. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const processIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/**
 * `--devices DIR`: the endpoint, certificates and root CA `pdm devices register` wrote, and the Basic
 * Ingest topic form when the stage's device policy expects it.
 */
export function withDevicesDir(opts: SimulateCliOptions): SimulateCliOptions & { readonly wireTopic?: (topic: string) => string } {
  if (opts.devices === undefined) return opts;
  if (opts.iotEndpoint !== undefined || opts.certDir !== undefined || opts.ca !== undefined || opts.broker !== undefined)
    throw new SimulateOptionsError('--devices replaces --iot-endpoint, --cert-dir, --ca and --broker; give only --devices');
  const manifest = readDevicesManifest(opts.devices);
  const stage = manifest.stage;
  return {
    ...opts,
    iotEndpoint: manifest.endpoint,
    certDir: opts.devices,
    ca: join(opts.devices, ROOT_CA_FILE),
    ...(manifest.basicIngest ? { wireTopic: (topic: string) => wireTopic(topic, { stage, basicIngest: true }) } : {}),
  };
}

/** Adds `simulate` to the program. */
export function register(program: Command, io: CliIo = processIo): void {
  program
    .command('simulate')
    .description(
      'run the simulated fleet: publish over MQTT (local broker or AWS IoT Core, one connection per device) or print JSONL with --dry-run',
    )
    .option('--broker <url>', 'local MQTT broker, e.g. mqtt://127.0.0.1:1883')
    .option('--credentials <file>', "the local broker's per-device tokens (device-credentials.json in pdm local's data dir)")
    .option('--iot-endpoint <host>', 'AWS IoT Core data endpoint (aws iot describe-endpoint --endpoint-type iot:Data-ATS)')
    .option('--devices <dir>', 'folder written by "pdm devices register --simulated N" (certificates, root CA, endpoint, Basic Ingest); replaces --iot-endpoint, --cert-dir and --ca')
    .option('--cert-dir <dir>', 'folder with <assetId>.cert.pem and <assetId>.key.pem per device')
    .option('--ca <file>', 'Amazon root CA (AmazonRootCA1.pem)')
    .option('--iot-port <port>', 'IoT Core port: 8883, or 443 (ALPN) where 8883 is blocked', oneOf([8883, 443]))
    .option('--dry-run', 'print messages as JSONL {"topic","payload"} lines instead of publishing')
    .option('--assets <n>', 'simulated assets', positiveInt, 12)
    .option('--seed <n>', 'simulation seed', positiveInt, 1)
    .option('--speed <x>', 'simulated seconds per real second ("max": no pacing)', positiveNumber, 600)
    .option('--duration <s>', 'real seconds to run (the simulation covers duration × speed)', positiveNumber)
    .option('--ticks <n>', 'simulation steps to run instead of a duration', positiveInt)
    .option('--interval <s>', 'simulated seconds between samples', positiveNumber, 600)
    .option('--start <time>', 'simulated time of the first sample (ISO-8601 or epoch ms); default: the run ends now', instant)
    .option('--samples-per-message <k>', 'samples a device batches into one message', positiveInt, 1)
    .option('--fault-rate <p>', 'share of damaged messages (malformed JSON, unknown sensor, out of range)', probability, 0)
    .option('--failing-share <p>', 'share of assets with an injected degradation', probability, 0.25)
    .option(
      '--realism [kinds]',
      `realism faults, comma separated (${FAULT_KINDS.join(', ')}), or all when no list is given`,
    )
    .option('--clock-skew-ms <ms>', 'largest device clock offset (enables clockSkew)', nonNegative)
    .option('--ground-truth <file>', 'write the injected faults as JSONL to this file')
    .option('--mqtt-version <v>', 'MQTT protocol: 4 (3.1.1) or 5', oneOf([4, 5]), 4)
    .option('--json', 'print one JSON summary at the end (on stderr with --dry-run)')
    .action(async (opts: SimulateCliOptions) => {
      try {
        await simulate(opts, io);
      } catch (e) {
        const err = e as Error;
        program.error(`pdm simulate: ${err.name}: ${err.message}`, { exitCode: 2 });
      }
    });
}

/** The `simulate` command's work, separate from option parsing. */
export async function simulate(given: SimulateCliOptions, io: CliIo): Promise<void> {
  const opts = withDevicesDir(given);
  const targets = [opts.broker !== undefined, opts.iotEndpoint !== undefined, opts.dryRun === true].filter(Boolean).length;
  if (targets !== 1) throw new SimulateOptionsError('give exactly one of --broker, --iot-endpoint and --dry-run');
  if (opts.iotEndpoint !== undefined && (opts.certDir === undefined || opts.ca === undefined))
    throw new SimulateOptionsError('--iot-endpoint needs --cert-dir and --ca');
  if (opts.duration !== undefined && opts.ticks !== undefined)
    throw new SimulateOptionsError('give --duration or --ticks, not both');
  const intervalMs = Math.round(opts.interval * 1000);
  let ticks = opts.ticks;
  if (ticks === undefined && opts.duration !== undefined) ticks = ticksFor(opts.duration, opts.speed, intervalMs);
  if (opts.dryRun && ticks === undefined) throw new SimulateOptionsError('--dry-run needs --ticks or --duration');
  // By default the run ends at the present, so every timestamp is in the past and recent enough for
  // the pipeline's stale and future checks, however fast the simulated clock runs.
  const start = opts.start ?? Date.now() - Math.max(0, (ticks ?? 1) - 1) * intervalMs;
  const realism = realismFrom(opts);
  const fleet = createFleet({ assets: opts.assets, seed: opts.seed, failingShare: opts.failingShare });
  const simulator = new FleetSimulator(fleet, {
    seed: opts.seed,
    start,
    intervalMs,
    samplesPerMessage: opts.samplesPerMessage,
    faultRate: opts.faultRate,
    ...(realism ? { realism } : {}),
  });
  const truth: InjectedFault[] = [];
  const keepTruth = opts.groundTruth !== undefined;

  let summary: RunFleetSummary;
  if (opts.dryRun) {
    const started = performance.now();
    let generated = 0;
    const faults: Record<string, number> = {};
    const emit = (m: { topic: string; payload: string }) => {
      generated++;
      io.out(`${JSON.stringify({ topic: m.topic, payload: m.payload })}\n`);
    };
    const collect = () => {
      for (const f of simulator.takeGroundTruth()) {
        faults[f.kind] = (faults[f.kind] ?? 0) + 1;
        if (keepTruth) truth.push(f);
      }
    };
    for (let t = 0; t < ticks!; t++) {
      for (const m of simulator.step()) emit(m);
      collect();
    }
    for (const m of simulator.flush()) emit(m);
    collect();
    summary = {
      devices: fleet.length,
      ticks: ticks!,
      simulatedMs: ticks! * intervalMs,
      elapsedMs: Math.round(performance.now() - started),
      messages: { generated, published: 0, failed: 0 },
      faults,
    };
  } else {
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once('SIGINT', stop);
    const errors: Record<string, number> = {};
    try {
      summary = await runFleet({
        simulator,
        ...(opts.broker !== undefined
          ? { brokerUrl: opts.broker, ...(opts.credentials !== undefined ? { credentials: readCredentials(opts.credentials) } : {}) }
          : {
              ...(opts.wireTopic ? { wireTopic: opts.wireTopic } : {}),
              iot: {
                endpoint: opts.iotEndpoint!,
                certDir: opts.certDir!,
                ca: opts.ca!,
                ...(opts.iotPort === 443 ? { port: 443 as const } : {}),
              },
            }),
        speed: opts.speed,
        ...(ticks !== undefined ? { ticks } : {}),
        protocolVersion: opts.mqttVersion === 5 ? 5 : 4,
        signal: ac.signal,
        onFaults: keepTruth ? (f) => truth.push(...f) : undefined,
        onError: (_m, err) => {
          errors[err.name] = (errors[err.name] ?? 0) + 1;
        },
        onEvent: opts.json
          ? undefined
          : (e) => io.err(`${e.assetId}: ${e.type}${e.type === 'error' ? ` ${e.error.message}` : ''}\n`),
      });
    } finally {
      process.removeListener('SIGINT', stop);
    }
    if (Object.keys(errors).length > 0) io.err(`publish failures by error: ${JSON.stringify(errors)}\n`);
  }
  if (keepTruth) writeFileSync(opts.groundTruth!, truth.map((f) => `${JSON.stringify(f)}\n`).join(''));
  if (opts.json) (opts.dryRun ? io.err : io.out)(`${JSON.stringify(summary)}\n`);
  else if (!opts.dryRun)
    io.out(
      `simulated ${summary.devices} devices for ${summary.ticks} ticks (${summary.simulatedMs / 1000} s simulated in ${summary.elapsedMs / 1000} s): ` +
        `${summary.messages.published}/${summary.messages.generated} published, ${summary.messages.failed} failed\n`,
    );
}
