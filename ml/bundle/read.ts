/** Reads a bundle directory, verifying every model file's sha256 against the manifest. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle, MANIFEST_FILE, type ModelBundle } from '../../lambdas/core/model/bundle.ts';
import { sha256Hex } from './hash.ts';

/** Default bundle location: the Lambda layer's folder. */
export const DEFAULT_BUNDLE_DIR = join(import.meta.dirname, '..', '..', 'layers', 'model');

/**
 * Loads `dir/manifest.json` and its model files.
 * @throws BundleIntegrityError when a file's bytes are not the ones the manifest lists, and every error
 *   `loadBundle` raises.
 */
export function readBundle(dir: string = DEFAULT_BUNDLE_DIR): ModelBundle {
  const manifest = readFileSync(join(dir, MANIFEST_FILE), 'utf8');
  return loadBundle(manifest, (rel) => new Uint8Array(readFileSync(join(dir, rel))), { sha256: sha256Hex });
}
