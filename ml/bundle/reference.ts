/**
 * The one place a trained asset model's drift reference is made (docs/drift.md): `pdm train` (through
 * `writeBundle`) and `pdm bundle reference` (recomputing the matrices of a shipped bundle) both call it.
 */
import { type AssetModelReference, buildReference } from '../../lambdas/core/drift/reference.ts';
import type { TrainingMatrix } from '../../lambdas/core/drift/reference.ts';

export interface ReferenceInput {
  readonly matrix: TrainingMatrix;
  /** Each predictor's model file (JSON text or UBJSON bytes) and its columns. */
  readonly predictors: readonly { readonly model: string | Uint8Array; readonly featureNames: readonly string[] }[];
}

/** Bins every served feature over the training rows and picks the top features by gain. */
export function referenceOf(input: ReferenceInput): AssetModelReference {
  return buildReference(input.matrix, input.predictors);
}
