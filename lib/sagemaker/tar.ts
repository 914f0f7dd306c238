/**
 * `model.tar.gz` bodies for SageMaker model data: the one-file ustar writer of the core
 * (`lambdas/core/model/tar.ts`, shared with the model registry adapter), gzipped.
 */
import { gzipSync } from 'node:zlib';
import { ustarSingleFile } from '../../lambdas/core/model/tar.ts';

export { TarEntryError, ustarSingleFile } from '../../lambdas/core/model/tar.ts';

/** A `model.tar.gz` body holding exactly one file. */
export function singleFileTarGz(name: string, content: Uint8Array): Buffer {
  return gzipSync(ustarSingleFile(name, content), { level: 9 });
}
