/** Settings and clients the retraining handlers share, parsed once per container. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parseManifest, MANIFEST_FILE, type BundleManifest } from '../core/model/bundle.ts';
import { RETRAIN_ENV, RetrainInputError } from './app.ts';

/** Where the model layer mounts the deployed bundle (lib/stacks/processing-stack.ts MODEL_DIR). */
const MODEL_DIR = '/opt/model';

export function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new RetrainInputError(`environment variable ${name} is not set`);
  return v;
}

export const s3 = new S3Client({});
export const bucket = (): string => required(RETRAIN_ENV.bucket);

export const putObject =
  (b: string) =>
  async (key: string, body: string): Promise<void> => {
    await s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: body }));
  };

export async function getObject(uri: string): Promise<Uint8Array> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new RetrainInputError(`not an s3:// URI: ${uri}`);
  const out = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
  if (!out.Body) throw new RetrainInputError(`${uri} has no body`);
  return out.Body.transformToByteArray();
}

export const deployedManifest = (): BundleManifest => parseManifest(readFileSync(join(MODEL_DIR, MANIFEST_FILE), 'utf8'));
export const readBundleFile = (rel: string): Uint8Array => new Uint8Array(readFileSync(join(MODEL_DIR, rel)));
