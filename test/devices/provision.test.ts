import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
  IoTClient,
  ListThingPrincipalsCommand,
  ListThingsCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { withDevicesDir } from '../../devices/cli.ts';
import { policyUsesBasicIngest, runRegister, specsFrom } from '../../devices/provision-cli.ts';
import {
  DeviceCredentialsLostError,
  DeviceSpecError,
  listDevices,
  parseFleetCsv,
  type ProvisionContext,
  ProvisioningCallError,
  registerDevice,
  registerFleet,
  revokeDevice,
  stageNames,
} from '../../devices/provision.ts';

const iotMock = mockClient(IoTClient);
const ddbMock = mockClient(DynamoDBDocumentClient);

const notFound = () => Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
const certFor = (id: string) => ({
  certificateArn: `arn:aws:iot:eu-west-1:123456789012:cert/${id}`,
  certificateId: id,
  certificatePem: `-----BEGIN CERTIFICATE-----\n${id}\n-----END CERTIFICATE-----\n`,
  keyPair: { PrivateKey: `-----BEGIN RSA PRIVATE KEY-----\n${id}\n-----END RSA PRIVATE KEY-----\n`, PublicKey: 'pub' },
});

function context(outDir = mkdtempSync(join(tmpdir(), 'pdm-certs-'))): ProvisionContext {
  return {
    iot: new IoTClient({ region: 'eu-west-1' }),
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
    names: stageNames('dev'),
    outDir,
    retry: { sleep: async () => undefined },
  };
}

const PUMP = { assetId: 'pump-001', siteId: 'site-a', modelId: 'centrifugal-pump' };

describe('registerDevice', () => {
  beforeEach(() => {
    iotMock.reset();
    ddbMock.reset();
    ddbMock.on(PutCommand).resolves({});
  });

  it('creates the thing, writes certificate and key, attaches policy and thing, and registers the asset', async () => {
    iotMock.on(DescribeThingCommand).rejects(notFound());
    iotMock.on(CreateThingCommand).resolves({});
    iotMock.on(CreateKeysAndCertificateCommand).resolves(certFor('c1'));
    iotMock.on(AttachPolicyCommand).resolves({});
    iotMock.on(AttachThingPrincipalCommand).resolves({});
    const ctx = context();

    const r = await registerDevice(ctx, PUMP);

    expect(r).toEqual({ assetId: 'pump-001', status: 'created', certificateArn: certFor('c1').certificateArn });
    expect(iotMock.commandCalls(CreateThingCommand)[0]!.args[0].input).toEqual({
      thingName: 'pump-001',
      attributePayload: { attributes: { site: 'site-a', model: 'centrifugal-pump', stage: 'dev' } },
    });
    expect(iotMock.commandCalls(AttachPolicyCommand)[0]!.args[0].input).toEqual({ policyName: 'pdm-dev-device', target: certFor('c1').certificateArn });
    expect(iotMock.commandCalls(AttachThingPrincipalCommand)[0]!.args[0].input).toEqual({ thingName: 'pump-001', principal: certFor('c1').certificateArn });
    expect(readFileSync(join(ctx.outDir, 'pump-001.cert.pem'), 'utf8')).toBe(certFor('c1').certificatePem);
    expect(statSync(join(ctx.outDir, 'pump-001.key.pem')).mode & 0o777).toBe(0o600);
    expect(ddbMock.commandCalls(PutCommand)[0]!.args[0].input).toEqual({ TableName: 'pdm-dev-assets', Item: PUMP });
  });

  it('skips a thing that already has a certificate whose files are on disk, and refreshes the asset row', async () => {
    const ctx = context();
    writeFileSync(join(ctx.outDir, 'pump-001.cert.pem'), 'cert');
    writeFileSync(join(ctx.outDir, 'pump-001.key.pem'), 'key');
    iotMock.on(DescribeThingCommand).resolves({ thingName: 'pump-001' });
    iotMock.on(ListThingPrincipalsCommand).resolves({ principals: ['arn:aws:iot:eu-west-1:123456789012:cert/old'] });

    const r = await registerDevice(ctx, PUMP);

    expect(r).toEqual({ assetId: 'pump-001', status: 'exists' });
    expect(iotMock.commandCalls(CreateKeysAndCertificateCommand)).toHaveLength(0);
    expect(iotMock.commandCalls(CreateThingCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(PutCommand)).toHaveLength(1);
  });

  it('gives an existing thing without a certificate a new one', async () => {
    iotMock.on(DescribeThingCommand).resolves({ thingName: 'pump-001' });
    iotMock.on(ListThingPrincipalsCommand).resolves({ principals: [] });
    iotMock.on(CreateKeysAndCertificateCommand).resolves(certFor('c2'));

    const r = await registerDevice(context(), PUMP);

    expect(r.status).toBe('created');
    expect(iotMock.commandCalls(CreateThingCommand)).toHaveLength(0);
  });

  it('refuses a thing whose certificate exists but whose key file is missing', async () => {
    iotMock.on(DescribeThingCommand).resolves({ thingName: 'pump-001' });
    iotMock.on(ListThingPrincipalsCommand).resolves({ principals: ['arn:aws:iot:eu-west-1:123456789012:cert/old'] });

    await expect(registerDevice(context(), PUMP)).rejects.toThrow(DeviceCredentialsLostError);
    expect(iotMock.commandCalls(CreateKeysAndCertificateCommand)).toHaveLength(0);
  });

  it('retries throttled calls and succeeds', async () => {
    iotMock.on(DescribeThingCommand).rejects(notFound());
    iotMock.on(CreateThingCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({});
    iotMock.on(CreateKeysAndCertificateCommand).resolves(certFor('c3'));

    const r = await registerDevice(context(), PUMP);

    expect(r.status).toBe('created');
    expect(iotMock.commandCalls(CreateThingCommand)).toHaveLength(3);
  });

  it('gives up on a call throttled past its retries with a named error', async () => {
    iotMock.on(DescribeThingCommand).rejects(notFound());
    iotMock.on(CreateThingCommand).rejects(throttled());

    await expect(registerDevice(context(), PUMP)).rejects.toThrow(ProvisioningCallError);
    expect(iotMock.commandCalls(CreateThingCommand)).toHaveLength(6);
  });

  it('rejects an asset id IoT Core would refuse', async () => {
    await expect(registerDevice(context(), { ...PUMP, assetId: 'pump 1' })).rejects.toThrow(DeviceSpecError);
    expect(iotMock.calls()).toHaveLength(0);
  });
});

describe('registerFleet', () => {
  beforeEach(() => {
    iotMock.reset();
    ddbMock.reset();
    ddbMock.on(PutCommand).resolves({});
  });

  it('provisions the others when one device fails, reports it, and skips done devices on the re-run', async () => {
    const ctx = context();
    const specs = ['a-1', 'a-2', 'a-3'].map((assetId) => ({ assetId, siteId: 's', modelId: 'turbofan' }));
    const created = new Set<string>();
    iotMock.on(DescribeThingCommand).callsFake((input: { thingName: string }) => {
      if (created.has(input.thingName)) return { thingName: input.thingName };
      throw notFound();
    });
    iotMock.on(ListThingPrincipalsCommand).resolves({ principals: ['arn:aws:iot:eu-west-1:123456789012:cert/x'] });
    iotMock.on(CreateThingCommand).callsFake((input: { thingName: string }) => {
      if (input.thingName === 'a-2' && !created.has('fail-once')) {
        created.add('fail-once');
        throw Object.assign(new Error('denied'), { name: 'InvalidRequestException' });
      }
      created.add(input.thingName);
      return {};
    });
    iotMock.on(CreateKeysAndCertificateCommand).callsFake(() => certFor(`c${iotMock.commandCalls(CreateKeysAndCertificateCommand).length}`));

    const first = await registerFleet(ctx, specs, { concurrency: 2 });
    const second = await registerFleet(ctx, specs, { concurrency: 2 });

    expect(first.created.sort()).toEqual(['a-1', 'a-3']);
    expect(first.failed).toEqual([{ assetId: 'a-2', error: 'InvalidRequestException: denied' }]);
    expect(second.created).toEqual(['a-2']);
    expect(second.existing.sort()).toEqual(['a-1', 'a-3']);
    expect(second.failed).toEqual([]);
    expect(iotMock.commandCalls(CreateKeysAndCertificateCommand)).toHaveLength(3);
  });

  it('writes the devices manifest and returns the failure count', async () => {
    iotMock.on(DescribeThingCommand).rejects(notFound());
    iotMock.on(CreateKeysAndCertificateCommand).resolves(certFor('c9'));
    const ctx = context();
    const out: string[] = [];

    const failed = await runRegister(ctx, [PUMP], { stage: 'dev', region: 'eu-west-1', endpoint: 'x-ats.iot.eu-west-1.amazonaws.com', basicIngest: true }, {
      out: (t) => out.push(t),
      err: (t) => out.push(t),
      progress: false,
    });

    expect(failed).toBe(0);
    expect(JSON.parse(readFileSync(join(ctx.outDir, 'devices.json'), 'utf8'))).toMatchObject({ stage: 'dev', basicIngest: true });
    expect(out.join('')).toMatch(/^1 created, 0 already registered, 0 failed/);
  });
});

describe('revokeDevice', () => {
  beforeEach(() => iotMock.reset());

  it('revokes, detaches and deletes each certificate, then the thing', async () => {
    const arn = 'arn:aws:iot:eu-west-1:123456789012:cert/abc';
    iotMock.on(DescribeThingCommand).resolves({ thingName: 'pump-001' });
    iotMock.on(ListThingPrincipalsCommand).resolves({ principals: [arn] });
    iotMock.on(DeleteCertificateCommand).rejectsOnce(Object.assign(new Error('attached'), { name: 'DeleteConflictException' })).resolves({});

    const r = await revokeDevice(context(), 'pump-001');

    expect(r).toEqual({ certificates: 1, thingDeleted: true });
    expect(iotMock.commandCalls(UpdateCertificateCommand)[0]!.args[0].input).toEqual({ certificateId: 'abc', newStatus: 'REVOKED' });
    expect(iotMock.commandCalls(DetachThingPrincipalCommand)[0]!.args[0].input).toEqual({ thingName: 'pump-001', principal: arn });
    expect(iotMock.commandCalls(DetachPolicyCommand)[0]!.args[0].input).toEqual({ policyName: 'pdm-dev-device', target: arn });
    expect(iotMock.commandCalls(DeleteCertificateCommand)).toHaveLength(2);
    expect(iotMock.commandCalls(DeleteThingCommand)).toHaveLength(1);
  });

  it('does nothing for a thing that does not exist', async () => {
    iotMock.on(DescribeThingCommand).rejects(notFound());

    expect(await revokeDevice(context(), 'ghost-1')).toEqual({ certificates: 0, thingDeleted: false });
    expect(iotMock.commandCalls(DeleteThingCommand)).toHaveLength(0);
  });
});

describe('listDevices', () => {
  it('lists the stage\'s things over every page, sorted', async () => {
    iotMock.reset();
    iotMock
      .on(ListThingsCommand)
      .resolvesOnce({ things: [{ thingName: 'b', attributes: { site: 's1', model: 'm' } }], nextToken: 't' })
      .resolvesOnce({ things: [{ thingName: 'a', attributes: { site: 's2', model: 'm' } }] });

    const list = await listDevices(context());

    expect(list).toEqual([{ assetId: 'a', siteId: 's2', modelId: 'm' }, { assetId: 'b', siteId: 's1', modelId: 'm' }]);
    expect(iotMock.commandCalls(ListThingsCommand)[0]!.args[0].input).toMatchObject({ attributeName: 'stage', attributeValue: 'dev' });
  });
});

describe('fleet files and options', () => {
  it('parses a fleet CSV with a header in any column order, comments and blank lines', () => {
    expect(parseFleetCsv('# fleet\nsiteId,assetId,modelId\n\ns1,a-1,turbofan\ns2,a-2,centrifugal-pump\n')).toEqual([
      { assetId: 'a-1', siteId: 's1', modelId: 'turbofan' },
      { assetId: 'a-2', siteId: 's2', modelId: 'centrifugal-pump' },
    ]);
  });

  it('names the line of a bad or duplicate row', () => {
    expect(() => parseFleetCsv('assetId,siteId,modelId\na 1,s,m\n', 'f.csv')).toThrow(/f\.csv:2: assetId/);
    expect(() => parseFleetCsv('assetId,siteId,modelId\na,s,m\na,s,m\n', 'f.csv')).toThrow(/f\.csv:3: asset a appears twice/);
    expect(() => parseFleetCsv('assetId,site\n')).toThrow(/no "siteId" column/);
  });

  it('takes exactly one way of naming devices', () => {
    expect(() => specsFrom({})).toThrow(DeviceSpecError);
    expect(() => specsFrom({ asset: 'a', file: 'f.csv' })).toThrow(DeviceSpecError);
    expect(() => specsFrom({ asset: 'a' })).toThrow(/needs --site and --model/);
    expect(specsFrom({ simulated: 2 }).map((s) => s.assetId)).toHaveLength(2);
  });

  it('recognises a Basic Ingest device policy', () => {
    expect(policyUsesBasicIngest('{"Resource":["arn:aws:iot:r:a:topic/$aws/rules/pdm_dev_telemetry/pdm/*"]}')).toBe(true);
    expect(policyUsesBasicIngest('{"Resource":["arn:aws:iot:r:a:topic/pdm/*"]}')).toBe(false);
  });
});

describe('pdm simulate --devices', () => {
  it('connects with the registered endpoint, certificates and root CA, publishing behind the Basic Ingest prefix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdm-devices-'));
    writeFileSync(join(dir, 'devices.json'), JSON.stringify({ stage: 'dev', region: 'eu-west-1', endpoint: 'abc-ats.iot.eu-west-1.amazonaws.com', basicIngest: true }));

    const opts = withDevicesDir({ devices: dir, assets: 2, seed: 1, speed: 1, interval: 60, samplesPerMessage: 1, faultRate: 0, failingShare: 0, mqttVersion: 4 });

    expect(opts).toMatchObject({ iotEndpoint: 'abc-ats.iot.eu-west-1.amazonaws.com', certDir: dir, ca: join(dir, 'AmazonRootCA1.pem') });
    expect(opts.wireTopic?.('pdm/site-a/pump-001/telemetry')).toBe('$aws/rules/pdm_dev_telemetry/pdm/site-a/pump-001/telemetry');
  });

  it('refuses --devices together with explicit connection options', () => {
    expect(() => withDevicesDir({ devices: '/x', certDir: '/y', assets: 1, seed: 1, speed: 1, interval: 60, samplesPerMessage: 1, faultRate: 0, failingShare: 0, mqttVersion: 4 })).toThrow(
      /--devices replaces/,
    );
  });

  it('names the missing manifest', () => {
    expect(() => withDevicesDir({ devices: '/nonexistent', assets: 1, seed: 1, speed: 1, interval: 60, samplesPerMessage: 1, faultRate: 0, failingShare: 0, mqttVersion: 4 })).toThrow(
      DeviceSpecError,
    );
  });
});
