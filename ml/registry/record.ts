/**
 * The local model registry's records (docs/models.md, "Model registry"): one immutable version record per
 * trained asset model, and the alias file naming each asset model's champion with the history of moves.
 * Types only and their validators: no I/O, so the AWS promotion step can import them.
 */
import { z } from 'zod';

export const VERSION_SCHEMA = 'pdm.model-version.v1';
export const ALIASES_SCHEMA = 'pdm.model-aliases.v1';

/** `<assetModelId>@<n>`: short to type (`pdm models promote turbofan@4`), n counts up per asset model. */
export const VERSION_ID = /^([a-z0-9][a-z0-9-]*)@([1-9][0-9]*)$/;

/** A version id is not `<assetModelId>@<n>`. */
export class VersionIdError extends Error {
  override readonly name: string = 'VersionIdError';
}

export function parseVersionId(id: string): { assetModel: string; n: number } {
  const m = VERSION_ID.exec(id);
  if (!m) throw new VersionIdError(`"${id}" is not a version id; expected <assetModel>@<n>, e.g. turbofan@2`);
  return { assetModel: m[1]!, n: Number(m[2]) };
}

export function versionId(assetModel: string, n: number): string {
  return `${assetModel}@${n}`;
}

const finite = z.number().refine(Number.isFinite, 'must be finite');

/**
 * A group of metrics measured by one evaluation: the same data, split and protocol. Two versions' metrics
 * are compared by the promotion gate only when their evaluation ids are equal.
 */
export const evaluationSchema = z.strictObject({
  /** `ev-` + 16 hex of the sha256 of the evaluation's canonical description (data hash, split, protocol). */
  id: z.string().regex(/^ev-[0-9a-f]{16}$/),
  /** Short stable name, e.g. `cmapss-fd001-test`. */
  name: z.string().min(1),
  /** `held-out`: data the training never saw; `validation`: inside the training period (split or out-of-fold). */
  kind: z.enum(['held-out', 'validation']),
  description: z.string(),
  /** `<predictor>.<metric>` → value, e.g. `rul.rmse`. */
  metrics: z.record(z.string(), finite),
});
export type Evaluation = z.infer<typeof evaluationSchema>;

/** Where a version came from. */
export const versionSourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('train'),
    /** The `pdm train` options that shaped it. */
    seed: z.number().int().nonnegative(),
    trainUntil: z.string().optional(),
  }),
  z.strictObject({
    kind: z.literal('import'),
    /** The bundle folder it was read from (as given, relative to the repo when it is inside). */
    bundle: z.string(),
    /** The bundle manifest's `createdAt`. */
    bundleCreatedAt: z.string(),
    importedAt: z.string(),
  }),
  z.strictObject({
    kind: z.literal('retrain'),
    /** The local history it was trained on (`pdm retrain --data-dir`), as given. */
    dataDir: z.string(),
    /** The champion whose params it reused and against which it was scored. */
    from: z.string().regex(VERSION_ID),
    /** sha256 of the history rows it read (canonical: asset, time, vector, labels). */
    historyHash: z.string(),
    /** Epoch ms cuts of the time split: train < trainUntil; validation [validFrom, validUntil); held out ≥ testFrom. */
    split: z.strictObject({ first: z.number(), trainUntil: z.number(), validFrom: z.number(), validUntil: z.number(), testFrom: z.number(), last: z.number() }),
    /** Predictors that could not be retrained and kept the champion's file, with why. */
    kept: z.record(z.string(), z.string()),
  }),
  z.strictObject({
    kind: z.literal('sagemaker'),
    /** The deployed stage whose model package groups the files came from (`pdm models pull --stage`). */
    stage: z.string().min(1),
    /** The local champion whose entry the version was built from (its other predictors are kept). */
    from: z.string().regex(VERSION_ID),
    /** One per pulled predictor: the model package version and the training job that made its file. */
    packages: z.array(
      z.strictObject({
        predictor: z.string().min(1),
        group: z.string().min(1),
        version: z.number().int().positive(),
        arn: z.string().min(1),
        trainingJob: z.string().nullable(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
      }),
    ),
    pulledAt: z.string(),
  }),
]);

/**
 * A retrained version's measurement of the champion it was compared with: the champion's files scored
 * on the challenger's held-out evaluation. The gate uses it when the two records' own evaluations differ,
 * and only while `version` is still the champion.
 */
export const comparedWithSchema = z.strictObject({
  version: z.string().regex(VERSION_ID),
  /** The challenger's evaluation id these metrics were measured on. */
  evaluation: z.string().regex(/^ev-[0-9a-f]{16}$/),
  /** `<predictor>.<metric>` → the champion's value. */
  metrics: z.record(z.string(), finite),
});
export type ComparedWith = z.infer<typeof comparedWithSchema>;

/**
 * The asset model's manifest entry, copied whole: every field the trainers and writeBundle put there
 * (metrics, calibration, alertThresholds, interval, and fields added later) is kept, never whitelisted.
 * Only what the registry itself relies on is checked here; the bundle loader checks the rest on
 * materialisation.
 */
export const recordEntrySchema = z.looseObject({
  predictors: z.array(
    z.looseObject({
      name: z.string().min(1),
      file: z.string().min(1),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
});

export const versionRecordSchema = z.strictObject({
  schema: z.literal(VERSION_SCHEMA),
  id: z.string().regex(VERSION_ID),
  assetModel: z.string().min(1),
  /** ISO time the models were made: training time, or the imported bundle's `createdAt`. */
  created: z.string().min(1),
  source: versionSourceSchema,
  /** `git rev-parse HEAD` and whether the work tree had changes; nulls outside a git checkout. */
  git: z.strictObject({ commit: z.string().nullable(), dirty: z.boolean().nullable() }),
  featureEngineVersion: z.string().min(1),
  /** Distinct training data sets of the predictors, by hash. */
  trainingData: z.array(
    z.strictObject({
      hash: z.string().min(1),
      description: z.string(),
      rows: z.number().int().nonnegative(),
      predictors: z.array(z.string()),
    }),
  ),
  /** Hyperparameters per predictor. */
  params: z.record(z.string(), z.record(z.string(), z.union([z.number(), z.string()]))),
  entry: recordEntrySchema,
  /** One per predictor file: the bundle path and the blob holding its bytes. */
  files: z.array(
    z.strictObject({
      file: z.string().min(1),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      blob: z.string().regex(/^blobs\/[0-9a-f]{64}\.(json|ubj)$/),
      bytes: z.number().int().nonnegative(),
    }),
  ),
  /** Validation and held-out metrics, grouped by the evaluation that produced them. */
  evaluations: z.array(evaluationSchema),
  /** Retrained versions: the champion scored on this version's held-out evaluation. */
  comparedWith: comparedWithSchema.optional(),
});
export type VersionRecord = z.infer<typeof versionRecordSchema>;

/** One move of a champion alias. */
export const aliasMoveSchema = z.strictObject({
  at: z.string().min(1),
  by: z.string(),
  assetModel: z.string().min(1),
  /**
   * `import`: first champion, from an imported bundle; `promote`: pushes `to`; `rollback`: pops back to `to`.
   * `shadow`: makes `to` the challenger (scored next to the champion, never deciding); `unshadow`: clears
   * the challenger `from` (`to` is null). Shadow moves never touch the champion stack.
   */
  action: z.enum(['import', 'promote', 'rollback', 'shadow', 'unshadow']),
  from: z.string().nullable(),
  /** Null only for `unshadow`. */
  to: z.string().regex(VERSION_ID).nullable(),
  /** True when the gate refused and `--force` overrode it. */
  forced: z.boolean(),
  reason: z.string().optional(),
  /** The gate's verdict at the time (promotions). */
  gate: z
    .strictObject({
      pass: z.boolean(),
      reason: z.string(),
      checks: z.array(z.looseObject({ metric: z.string(), ok: z.boolean() })),
    })
    .optional(),
});
export type AliasMove = z.infer<typeof aliasMoveSchema>;

export const aliasesSchema = z.strictObject({
  schema: z.literal(ALIASES_SCHEMA),
  /** Asset model → champion version id. Always the top of the stack the history replays to. */
  champions: z.record(z.string(), z.string().regex(VERSION_ID)),
  /**
   * Asset model → challenger version id (shadow scoring, docs/models.md "Shadow challengers"). Always
   * what the history replays to ({@link challengersOf}); absent in files written before shadows existed.
   */
  challengers: z.record(z.string(), z.string().regex(VERSION_ID)).optional(),
  history: z
    .array(aliasMoveSchema)
    .refine((h) => h.every((m) => (m.to === null) === (m.action === 'unshadow')), 'only an unshadow move has no "to"'),
});
export type Aliases = z.infer<typeof aliasesSchema>;

/**
 * Replays the history into each asset model's champion stack: import/promote push, rollback pops.
 * The top is the champion; the one below it is where a rollback goes.
 */
export function championStacks(history: readonly AliasMove[]): Map<string, string[]> {
  const stacks = new Map<string, string[]>();
  for (const move of history) {
    if (move.action === 'shadow' || move.action === 'unshadow' || move.to === null) continue;
    const stack = stacks.get(move.assetModel) ?? [];
    if (move.action === 'rollback') stack.pop();
    else stack.push(move.to);
    stacks.set(move.assetModel, stack);
  }
  return stacks;
}

/**
 * Replays the history into each asset model's challenger: `shadow` sets it, `unshadow` clears it, and a
 * champion move onto the challenger's version (its promotion, or a rollback to it) clears it too: a
 * version is never scored in the shadow of itself.
 */
export function challengersOf(history: readonly AliasMove[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const move of history) {
    if (move.action === 'shadow' && move.to !== null) out[move.assetModel] = move.to;
    else if (move.action === 'unshadow' || out[move.assetModel] === move.to) delete out[move.assetModel];
  }
  return out;
}
