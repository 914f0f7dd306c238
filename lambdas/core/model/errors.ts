/**
 * Errors raised while loading or scoring an XGBoost-format model. Every rejection names its reason so the
 * artifact gate and the handlers can report it; none of them is a crash or a silent fallback.
 */

/** The bytes are not a well-formed XGBoost JSON/UBJSON model (syntax, missing or mistyped field). */
export class ModelFormatError extends Error {
  override readonly name: string = 'ModelFormatError';
}

/** The file is XGBoost's legacy binary format (starts with `binf`), which xgboost ≥ 3.1 cannot read either. */
export class LegacyBinaryModelError extends ModelFormatError {
  override readonly name: string = 'LegacyBinaryModelError';
}

/** A well-formed model that uses a feature this evaluator does not score; scoring it would be wrong. */
export class UnsupportedModelError extends Error {
  override readonly name: string = 'UnsupportedModelError';
}

/** A tree has categorical splits (`split_type` ≠ 0 or non-empty `categories`). */
export class CategoricalSplitError extends UnsupportedModelError {
  override readonly name: string = 'CategoricalSplitError';
}

/** Multi-class or multi-target model (`num_class` > 1, `num_target` > 1, vector leaves, or `tree_info` ≠ 0). */
export class MultiOutputModelError extends UnsupportedModelError {
  override readonly name: string = 'MultiOutputModelError';
}

/** The objective is not in the supported table, so its link and output transform are unknown. */
export class UnsupportedObjectiveError extends UnsupportedModelError {
  override readonly name: string = 'UnsupportedObjectiveError';
}

/** The booster is not `gbtree` (e.g. `dart`, `gblinear`). */
export class UnsupportedBoosterError extends UnsupportedModelError {
  override readonly name: string = 'UnsupportedBoosterError';
}

/**
 * `best_ntree_limit`/`best_iteration` is below the tree count. The SageMaker 1.7 container would score with
 * fewer trees than we would, so we refuse unless the caller asks to truncate.
 */
export class BestIterationError extends UnsupportedModelError {
  override readonly name: string = 'BestIterationError';
  constructor(
    message: string,
    /** Number of trees the attributes say to use. */
    readonly treeLimit: number,
    /** Number of trees stored in the model. */
    readonly numTrees: number,
  ) {
    super(message);
  }
}

/** A row passed for scoring does not have the model's feature count. */
export class FeatureCountError extends Error {
  override readonly name: string = 'FeatureCountError';
}
