/**
 * `pdm devices register|list|revoke`: provisions devices of a deployed stage (devices/provision.ts).
 * `register` also writes `devices.json` next to the certificates (endpoint, stage, whether the device
 * policy expects Basic Ingest), which `pdm simulate --devices DIR` and `pdm smoke` read.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeEndpointCommand, GetPolicyCommand, IoTClient } from '@aws-sdk/client-iot';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import { createFleet } from './fleet.ts';
import {
  type DeviceSpec,
  DeviceSpecError,
  listDevices,
  parseFleetCsv,
  type ProvisionContext,
  readPem,
  registerFleet,
  revokeDevice,
  ROOT_CA_FILE,
  stageNames,
  validateSpec,
  writeRootCa,
} from './provision.ts';

/** Where Amazon publishes the root CA devices trust for IoT Core's ATS endpoint. */
export const AMAZON_ROOT_CA1_URL = 'https://www.amazontrust.com/repository/AmazonRootCA1.pem';

/** What `register` records for the tools that connect as these devices. */
export interface DevicesManifest {
  readonly stage: string;
  readonly region: string | undefined;
  /** `iot:Data-ATS` endpoint of the account. */
  readonly endpoint: string;
  /** The stage's device policy allows publishing only behind `$aws/rules/<rule>/`. */
  readonly basicIngest: boolean;
}

export const DEVICES_MANIFEST = 'devices.json';

export function readDevicesManifest(dir: string): DevicesManifest {
  const file = join(dir, DEVICES_MANIFEST);
  let parsed: Partial<DevicesManifest>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevicesManifest>;
  } catch (err) {
    throw new DeviceSpecError(`${file}: cannot read the devices manifest written by "pdm devices register" (${(err as Error).message})`);
  }
  if (typeof parsed.stage !== 'string' || typeof parsed.endpoint !== 'string' || typeof parsed.basicIngest !== 'boolean') {
    throw new DeviceSpecError(`${file}: needs "stage", "endpoint" and "basicIngest"`);
  }
  return parsed as DevicesManifest;
}

/** Whether a device policy document grants publishing through Basic Ingest (`$aws/rules/…`). */
export function policyUsesBasicIngest(policyDocument: string): boolean {
  return policyDocument.includes('topic/$aws/rules/');
}

interface Common {
  readonly stage: string;
  readonly region?: string;
}

function clients(opts: Common): { iot: IoTClient; doc: DynamoDBDocumentClient } {
  const config = opts.region ? { region: opts.region } : {};
  return { iot: new IoTClient(config), doc: DynamoDBDocumentClient.from(new DynamoDBClient(config)) };
}

function stageArg(value: string): string {
  if (!/^[a-z][a-z0-9-]{0,11}$/.test(value)) throw new InvalidArgumentError('a stage is 1–12 lower-case letters, digits or hyphens, starting with a letter');
  return value;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** The devices `register` was asked for: one, a CSV fleet, or the simulator's fleet. */
export function specsFrom(opts: { asset?: string; site?: string; model?: string; file?: string; simulated?: number; seed?: number }): DeviceSpec[] {
  const ways = [opts.asset !== undefined, opts.file !== undefined, opts.simulated !== undefined].filter(Boolean).length;
  if (ways !== 1) throw new DeviceSpecError('give exactly one of --asset (with --site and --model), --file and --simulated');
  if (opts.file !== undefined) return parseFleetCsv(readFileSync(opts.file, 'utf8'), opts.file);
  if (opts.simulated !== undefined) {
    return createFleet({ assets: opts.simulated, seed: opts.seed ?? 1 }).map((a) => ({ assetId: a.assetId, siteId: a.siteId, modelId: a.modelId }));
  }
  if (opts.site === undefined || opts.model === undefined) throw new DeviceSpecError('--asset needs --site and --model');
  return [validateSpec({ assetId: opts.asset!, siteId: opts.site, modelId: opts.model })];
}

async function rootCa(caFile: string | undefined): Promise<string> {
  if (caFile) return readPem(caFile);
  const res = await fetch(AMAZON_ROOT_CA1_URL);
  if (!res.ok) throw new DeviceSpecError(`cannot download ${AMAZON_ROOT_CA1_URL} (HTTP ${res.status}); pass --ca-file`);
  return res.text();
}

/** Output, replaceable in tests. */
export interface DevicesIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly progress: boolean;
}

const processIo: DevicesIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), progress: process.stderr.isTTY === true };

/** `register`: provisions, writes the manifest, prints a summary; resolves to the number of failures. */
export async function runRegister(
  ctx: ProvisionContext,
  specs: readonly DeviceSpec[],
  manifest: DevicesManifest,
  io: DevicesIo,
  concurrency = 4,
): Promise<number> {
  writeFileSync(join(ctx.outDir, DEVICES_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  const bar = io.progress && specs.length > 1 ? new SingleBar({ format: 'devices [{bar}] {value}/{total} {asset}', hideCursor: true }) : undefined;
  bar?.start(specs.length, 0, { asset: '' });
  const result = await registerFleet(ctx, specs, { concurrency, onDone: (asset) => bar?.increment({ asset }) });
  bar?.stop();
  io.out(`${result.created.length} created, ${result.existing.length} already registered, ${result.failed.length} failed; certificates in ${ctx.outDir}\n`);
  for (const f of result.failed) io.err(`  ${f.assetId}: ${f.error}\n`);
  if (result.failed.length > 0) io.err('run the same command again to retry the failed devices; registered ones are skipped\n');
  return result.failed.length;
}

/** Adds `devices` to the program. */
export function register(program: Command, io: DevicesIo = processIo): void {
  const devices = program.command('devices').description('provision, list and revoke the devices of a deployed stage (AWS IoT things + certificates + asset registry)');
  devices
    .command('register')
    .description('create things, certificates (written to --out with the Amazon root CA) and asset rows; idempotent, re-run to resume')
    .requiredOption('--stage <stage>', 'deployed stage', stageArg)
    .option('--region <region>', 'AWS region (default: the SDK default)')
    .option('--asset <id>', 'one asset id (the thing name and MQTT client id)')
    .option('--site <id>', 'site of --asset')
    .option('--model <id>', 'asset model of --asset')
    .option('--file <csv>', 'fleet file with a header assetId,siteId,modelId')
    .option('--simulated <n>', "the simulator's first n assets (for pdm simulate --devices)", positiveInt)
    .option('--seed <n>', 'simulator seed with --simulated', positiveInt, 1)
    .option('--out <dir>', 'folder for certificates, keys, the root CA and devices.json (default: certs/<stage>)')
    .option('--ca-file <pem>', `root CA to copy instead of downloading ${AMAZON_ROOT_CA1_URL}`)
    .option('--concurrency <n>', 'devices provisioned at once', positiveInt, 4)
    .action(async (opts) => {
      try {
        const specs = specsFrom(opts);
        const outDir = opts.out ?? join('certs', opts.stage);
        const { iot, doc } = clients(opts);
        const names = stageNames(opts.stage);
        writeRootCa(outDir, await rootCa(opts.caFile));
        const policy = await iot.send(new GetPolicyCommand({ policyName: names.devicePolicyName }));
        const { endpointAddress } = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
        if (!endpointAddress) throw new DeviceSpecError('DescribeEndpoint returned no iot:Data-ATS endpoint');
        const manifest: DevicesManifest = {
          stage: opts.stage,
          region: opts.region ?? (await iot.config.region()),
          endpoint: endpointAddress,
          basicIngest: policyUsesBasicIngest(policy.policyDocument ?? ''),
        };
        const failed = await runRegister({ iot, doc, names, outDir }, specs, manifest, io, opts.concurrency);
        if (failed > 0) process.exitCode = 1;
      } catch (e) {
        const err = e as Error;
        program.error(`pdm devices register: ${err.name}: ${err.message}`, { exitCode: 2 });
      }
    });
  devices
    .command('list')
    .description("the stage's things with their site and model")
    .requiredOption('--stage <stage>', 'deployed stage', stageArg)
    .option('--region <region>', 'AWS region')
    .option('--json', 'print one JSON array')
    .action(async (opts) => {
      try {
        const list = await listDevices({ iot: clients(opts).iot, names: stageNames(opts.stage) });
        io.out(opts.json ? `${JSON.stringify(list)}\n` : list.map((d) => `${d.assetId}\t${d.siteId}\t${d.modelId}\n`).join('') || 'no devices\n');
      } catch (e) {
        const err = e as Error;
        program.error(`pdm devices list: ${err.name}: ${err.message}`, { exitCode: 2 });
      }
    });
  devices
    .command('revoke')
    .description('revoke and delete a device certificate and thing (the asset row, twin and history stay)')
    .requiredOption('--stage <stage>', 'deployed stage', stageArg)
    .requiredOption('--asset <id>', 'asset id')
    .option('--region <region>', 'AWS region')
    .action(async (opts) => {
      try {
        const r = await revokeDevice({ iot: clients(opts).iot, names: stageNames(opts.stage) }, opts.asset);
        io.out(r.thingDeleted ? `${opts.asset}: ${r.certificates} certificate(s) revoked and deleted, thing deleted\n` : `${opts.asset}: no such thing; nothing to revoke\n`);
      } catch (e) {
        const err = e as Error;
        program.error(`pdm devices revoke: ${err.name}: ${err.message}`, { exitCode: 2 });
      }
    });
}

export { ROOT_CA_FILE };
