/**
 * Device provisioning against a deployed stage: one AWS IoT thing per asset (thing name = asset id,
 * attributes site/model/stage), a certificate and key written to a folder with the Amazon root CA, the
 * stage's device policy attached, and the asset registered in the assets table. Idempotent: a device
 * whose thing already holds a certificate and whose files are on disk is skipped, so a fleet run that
 * failed half-way resumes by running it again. Certificate and key are written before anything points
 * at them, so no failure can leave an active certificate whose key was never saved.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DeleteThingCommand,
  DescribeThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  type IoTClient,
  ListThingPrincipalsCommand,
  ListThingsCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { IdSchema } from '../lambdas/core/contract/telemetry.ts';
import { backoff, type BackoffOptions, errorName } from '../lambdas/adapters/retry.ts';
import { certPaths } from './client.ts';

/** A device line or option that cannot be provisioned (bad id, bad CSV). */
export class DeviceSpecError extends Error {
  override readonly name: string = 'DeviceSpecError';
}

/** The thing already holds a certificate but its key is not in the output folder: it cannot be recovered. */
export class DeviceCredentialsLostError extends Error {
  override readonly name: string = 'DeviceCredentialsLostError';
}

/** An AWS call kept failing (throttled or otherwise) after its retries. */
export class ProvisioningCallError extends Error {
  override readonly name: string = 'ProvisioningCallError';
}

export interface DeviceSpec {
  readonly assetId: string;
  readonly siteId: string;
  readonly modelId: string;
}

/** Names of one stage's resources, as the stacks create them. */
export interface StageNames {
  readonly stage: string;
  readonly devicePolicyName: string;
  readonly assetsTable: string;
}

export const stageNames = (stage: string): StageNames => ({
  stage,
  devicePolicyName: `pdm-${stage}-device`,
  assetsTable: `pdm-${stage}-assets`,
});

export interface ProvisionContext {
  readonly iot: IoTClient;
  readonly doc: DynamoDBDocumentClient;
  readonly names: StageNames;
  /** Folder for `<assetId>.cert.pem`, `<assetId>.key.pem` and the root CA. */
  readonly outDir: string;
  /** Retry of throttled calls. @default 6 attempts from 200 ms */
  readonly retry?: BackoffOptions;
}

export type RegisterOutcome =
  | { readonly assetId: string; readonly status: 'created'; readonly certificateArn: string }
  | { readonly assetId: string; readonly status: 'exists' };

/** The name `pdm simulate --cert-dir` reads the root CA from. */
export const ROOT_CA_FILE = 'AmazonRootCA1.pem';

// DeleteConflictException: a detach is still propagating when the delete arrives.
const RETRYABLE = new Set(['DeleteConflictException', 'ThrottlingException', 'TooManyRequestsException', 'ServiceUnavailableException', 'InternalFailureException', 'ProvisionedThroughputExceededException']);

async function call<T>(ctx: ProvisionContext, what: string, fn: () => Promise<T>): Promise<T> {
  const policy = backoff({ attempts: 6, baseDelayMs: 200, maxDelayMs: 5_000, ...ctx.retry });
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!RETRYABLE.has(errorName(err))) throw err;
      if (attempt >= policy.attempts) {
        throw new ProvisioningCallError(`${what}: still ${errorName(err)} after ${attempt} attempts`, { cause: err });
      }
      await policy.pause(attempt);
    }
  }
}

/** @throws DeviceSpecError naming the bad field. */
export function validateSpec(spec: DeviceSpec, where = ''): DeviceSpec {
  for (const field of ['assetId', 'siteId', 'modelId'] as const) {
    const v = spec[field];
    // Thing names allow [a-zA-Z0-9:_-]{1,128}, the same alphabet as the telemetry contract's ids.
    if (typeof v !== 'string' || !IdSchema.safeParse(v).success) {
      throw new DeviceSpecError(`${where}${field} "${String(v)}" must be 1–128 characters of A–Z a–z 0–9 _ - :`);
    }
  }
  return spec;
}

/** Parses `assetId,siteId,modelId` lines (header required, `#` comments and blank lines ignored). */
export function parseFleetCsv(text: string, file = 'fleet.csv'): DeviceSpec[] {
  const lines = text.split(/\r?\n/).map((l, i) => ({ l: l.trim(), n: i + 1 })).filter(({ l }) => l !== '' && !l.startsWith('#'));
  const header = lines.shift();
  if (!header) throw new DeviceSpecError(`${file}: empty; expected a header "assetId,siteId,modelId"`);
  const cols = header.l.split(',').map((c) => c.trim());
  const idx = (name: string) => {
    const i = cols.indexOf(name);
    if (i < 0) throw new DeviceSpecError(`${file}:${header.n}: header has no "${name}" column (found ${cols.join(', ')})`);
    return i;
  };
  const [a, s, m] = [idx('assetId'), idx('siteId'), idx('modelId')];
  const seen = new Set<string>();
  return lines.map(({ l, n }) => {
    const f = l.split(',').map((c) => c.trim());
    const spec = validateSpec({ assetId: f[a] ?? '', siteId: f[s] ?? '', modelId: f[m] ?? '' }, `${file}:${n}: `);
    if (seen.has(spec.assetId)) throw new DeviceSpecError(`${file}:${n}: asset ${spec.assetId} appears twice`);
    seen.add(spec.assetId);
    return spec;
  });
}

/** Writes the root CA once (the CLI downloads it; tests pass a PEM). */
export function writeRootCa(outDir: string, pem: string): string {
  if (!/-----BEGIN CERTIFICATE-----/.test(pem)) throw new DeviceSpecError('the root CA is not a PEM certificate');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, ROOT_CA_FILE);
  writeFileSync(file, pem);
  return file;
}

async function thingExists(ctx: ProvisionContext, thingName: string): Promise<boolean> {
  try {
    await call(ctx, `DescribeThing ${thingName}`, () => ctx.iot.send(new DescribeThingCommand({ thingName })));
    return true;
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return false;
    throw err;
  }
}

async function principalsOf(ctx: ProvisionContext, thingName: string): Promise<string[]> {
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const res = await call(ctx, `ListThingPrincipals ${thingName}`, () => ctx.iot.send(new ListThingPrincipalsCommand({ thingName, nextToken })));
    out.push(...(res.principals ?? []));
    nextToken = res.nextToken;
  } while (nextToken);
  return out;
}

/**
 * Provisions one device (see the module comment). The asset row is written on every run, so a changed
 * site or model in the fleet file reaches the registry.
 * @throws DeviceCredentialsLostError when the thing has a certificate but its key file is missing.
 */
export async function registerDevice(ctx: ProvisionContext, raw: DeviceSpec): Promise<RegisterOutcome> {
  const spec = validateSpec(raw);
  const thingName = spec.assetId;
  const files = certPaths(ctx.outDir, thingName);
  const attributes = { site: spec.siteId, model: spec.modelId, stage: ctx.names.stage };

  let outcome: RegisterOutcome | undefined;
  if (await thingExists(ctx, thingName)) {
    const principals = await principalsOf(ctx, thingName);
    if (principals.length > 0) {
      if (!existsSync(files.cert) || !existsSync(files.key)) {
        throw new DeviceCredentialsLostError(
          `${thingName} already has a certificate (${principals.join(', ')}) but ${files.key} is missing; its key cannot be fetched again: run "pdm devices revoke --asset ${thingName}" and register it anew`,
        );
      }
      outcome = { assetId: thingName, status: 'exists' };
    }
  } else {
    await call(ctx, `CreateThing ${thingName}`, () => ctx.iot.send(new CreateThingCommand({ thingName, attributePayload: { attributes } })));
  }

  if (!outcome) {
    const cert = await call(ctx, 'CreateKeysAndCertificate', () => ctx.iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true })));
    if (!cert.certificateArn || !cert.certificatePem || !cert.keyPair?.PrivateKey) {
      throw new ProvisioningCallError(`CreateKeysAndCertificate for ${thingName} returned no certificate or key`);
    }
    // Saved first: IoT Core hands the private key out exactly once.
    mkdirSync(ctx.outDir, { recursive: true });
    writeFileSync(files.cert, cert.certificatePem);
    writeFileSync(files.key, cert.keyPair.PrivateKey, { mode: 0o600 });
    const certificateArn = cert.certificateArn;
    await call(ctx, `AttachPolicy ${thingName}`, () => ctx.iot.send(new AttachPolicyCommand({ policyName: ctx.names.devicePolicyName, target: certificateArn })));
    await call(ctx, `AttachThingPrincipal ${thingName}`, () => ctx.iot.send(new AttachThingPrincipalCommand({ thingName, principal: certificateArn })));
    outcome = { assetId: thingName, status: 'created', certificateArn };
  }

  await call(ctx, `PutItem ${thingName}`, () =>
    ctx.doc.send(new PutCommand({ TableName: ctx.names.assetsTable, Item: { assetId: spec.assetId, siteId: spec.siteId, modelId: spec.modelId } })),
  );
  return outcome;
}

export interface FleetResult {
  readonly created: string[];
  readonly existing: string[];
  readonly failed: Array<{ readonly assetId: string; readonly error: string }>;
}

/**
 * Provisions a fleet, `concurrency` devices at a time; one device's failure does not stop the others.
 * `onDone` is called after each device (for a progress bar).
 */
export async function registerFleet(
  ctx: ProvisionContext,
  specs: readonly DeviceSpec[],
  opts: { readonly concurrency?: number; readonly onDone?: (assetId: string, ok: boolean) => void } = {},
): Promise<FleetResult> {
  const result: FleetResult = { created: [], existing: [], failed: [] };
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      const spec = specs[next++]!;
      try {
        const r = await registerDevice(ctx, spec);
        (r.status === 'created' ? result.created : result.existing).push(r.assetId);
        opts.onDone?.(spec.assetId, true);
      } catch (err) {
        result.failed.push({ assetId: spec.assetId, error: `${errorName(err)}: ${(err as Error).message}` });
        opts.onDone?.(spec.assetId, false);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, specs.length)) }, worker));
  return result;
}

export interface ListedDevice {
  readonly assetId: string;
  readonly siteId: string;
  readonly modelId: string;
}

/** The stage's things (attribute `stage`). */
export async function listDevices(ctx: Pick<ProvisionContext, 'iot' | 'names' | 'retry'>): Promise<ListedDevice[]> {
  const out: ListedDevice[] = [];
  let nextToken: string | undefined;
  do {
    const res = await call(ctx as ProvisionContext, 'ListThings', () =>
      ctx.iot.send(new ListThingsCommand({ attributeName: 'stage', attributeValue: ctx.names.stage, nextToken })),
    );
    for (const t of res.things ?? []) {
      if (!t.thingName) continue;
      out.push({ assetId: t.thingName, siteId: t.attributes?.['site'] ?? '', modelId: t.attributes?.['model'] ?? '' });
    }
    nextToken = res.nextToken;
  } while (nextToken);
  return out.sort((a, b) => a.assetId.localeCompare(b.assetId));
}

/**
 * Revokes a device: each certificate is set REVOKED (IoT Core disconnects it within minutes), detached
 * from the thing and the policy, and deleted; then the thing is deleted. The asset row stays, so its
 * twin and history remain readable. Safe to re-run.
 */
export async function revokeDevice(ctx: Pick<ProvisionContext, 'iot' | 'names' | 'retry'>, assetId: string): Promise<{ readonly certificates: number; readonly thingDeleted: boolean }> {
  const c = ctx as ProvisionContext;
  validateSpec({ assetId, siteId: 'x', modelId: 'x' });
  if (!(await thingExists(c, assetId))) return { certificates: 0, thingDeleted: false };
  const principals = await principalsOf(c, assetId);
  for (const arn of principals) {
    const certificateId = arn.split('/').pop()!;
    await call(c, `UpdateCertificate ${certificateId}`, () => ctx.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'REVOKED' })));
    await call(c, `DetachThingPrincipal ${assetId}`, () => ctx.iot.send(new DetachThingPrincipalCommand({ thingName: assetId, principal: arn })));
    await call(c, `DetachPolicy ${certificateId}`, () => ctx.iot.send(new DetachPolicyCommand({ policyName: ctx.names.devicePolicyName, target: arn })));
    await call(c, `DeleteCertificate ${certificateId}`, () => ctx.iot.send(new DeleteCertificateCommand({ certificateId })));
  }
  await call(c, `DeleteThing ${assetId}`, () => ctx.iot.send(new DeleteThingCommand({ thingName: assetId })));
  return { certificates: principals.length, thingDeleted: true };
}

/** Reads a PEM file, with a named error. */
export function readPem(file: string): string {
  if (!existsSync(file)) throw new DeviceSpecError(`${file} does not exist`);
  return readFileSync(file, 'utf8');
}
