/**
 * The stage configuration: one typed object, read once in `bin/app.ts` from the cdk.json context key
 * `pdm` and validated here. Stacks and constructs receive the parsed object (or parts of it) as props;
 * nothing under `lib/` reads `process.env`, so a synth is a pure function of this config.
 */
import { z } from 'zod';
import { DEFAULT_MIN_COUNT, DEFAULT_WINDOW_HOURS } from '../lambdas/core/drift/psi.ts';
import { DEFAULT_PSI_THRESHOLD } from '../lambdas/core/drift/index.ts';

/** The cdk.json context key that holds the stage configuration. */
export const CONFIG_CONTEXT_KEY = 'pdm';

export class StageConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageConfigError';
  }
}

/** Retention values CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const positiveInt = (max: number) => z.number().int().min(1).max(max);

const consumerDefaults = {
  maxRecordAgeSeconds: 3_600,
  retryAttempts: 3,
  parallelizationFactor: 1,
};

/**
 * Defaults of the two consumers (the cost model reads them too). The clean function is stateless and
 * cheap per invocation: short window. The features function writes each asset's twin once per
 * invocation, and twin writes are most of the bill: a 300 s window (Lambda's maximum) folds five
 * minutes of each asset's samples into one write (alerts and the live twin lag by up to five minutes,
 * which predictive maintenance, with hours to weeks of lead time, can afford; 60 s cost 1.6× more at
 * 1,000 assets). docs/cost.md shows what other settings cost.
 */
export const CONSUMER_DEFAULTS = {
  clean: { ...consumerDefaults, batchSize: 1_000, maxBatchingWindowSeconds: 5 },
  features: { ...consumerDefaults, batchSize: 10_000, maxBatchingWindowSeconds: 300 },
} as const;

/** Event source mapping tuning of one stream consumer, with that consumer's defaults. */
const consumerSchema = (d: { readonly batchSize: number; readonly maxBatchingWindowSeconds: number }) =>
  z
    .object({
      /** Records per batch (Kinesis allows 1–10,000). @default CONSUMER_DEFAULTS (clean 1,000; features 10,000) */
      batchSize: positiveInt(10_000).default(d.batchSize),
      /** Batching window in seconds (0–300). @default CONSUMER_DEFAULTS (clean 5; features 300) */
      maxBatchingWindowSeconds: z.number().int().min(0).max(300).default(d.maxBatchingWindowSeconds),
      /** Records older than this are sent to the on-failure destination (60–604,800 s). @default 3600 */
      maxRecordAgeSeconds: z.number().int().min(60).max(604_800).default(3_600),
      /** Retries of a failing batch, after bisecting (0–10,000). Bounded: never infinite. @default 3 */
      retryAttempts: z.number().int().min(0).max(10_000).default(3),
      /** Concurrent batches per shard (1–10). @default 1 */
      parallelizationFactor: z.number().int().min(1).max(10).default(1),
    })
    .strict()
    .default({ ...consumerDefaults, ...d });

const StreamsSchema = z
  .discriminatedUnion('mode', [
    z.object({ mode: z.literal('on-demand') }).strict(),
    z
      .object({
        mode: z.literal('provisioned'),
        /** Shards of the raw stream. One shard takes 1,000 records/s: ~60,000 assets at a message a minute. */
        rawShards: positiveInt(500),
        /**
         * Shards of the clean stream. Besides throughput, one features batch (10,000 records) per shard
         * should hold a whole features window, or twin writes stop folding: `pdm cost` prints the count
         * for a fleet (1 up to ~2,000 assets at a sample a minute, 5 at 10,000).
         */
        cleanShards: positiveInt(500),
      })
      .strict(),
  ])
  // One provisioned shard per stream costs $21.90/month for both, on-demand $58.40 before any data, and
  // one shard carries the documented fleets (docs/cost.md shows the break-even).
  .default({ mode: 'provisioned', rawShards: 1, cleanShards: 1 });

/** Service Quotas defaults of a new account for serverless inference (lifecycle-and-provisioning notes §3). */
export const SERVERLESS_QUOTA_DEFAULTS = { maxEndpoints: 5, maxTotalConcurrency: 10 } as const;

const TimestreamSchema = z
  .object({
    /** Timestream for LiveAnalytics is closed to new AWS customers (2025-06-20): off by default. @default false */
    enabled: z.boolean().default(false),
    /** Memory store retention in hours (1–8766). @default 24 */
    memoryHours: z.number().int().min(1).max(8_766).default(24),
    /** Magnetic store retention in days (1–73,000). @default 365 */
    magneticDays: z.number().int().min(1).max(73_000).default(365),
  })
  .strict()
  .default({ enabled: false, memoryHours: 24, magneticDays: 365 });

const ScoringSchema = z
  .object({
    /**
     * `in-lambda`: no endpoint, the layer's models scored in the feature function (same evaluator, parity
     * tested); `endpoint`: SageMaker serverless endpoints, one per predictor (the feature function falls
     * back to in-Lambda scoring); `instance`: instance-backed endpoints. In-Lambda is the default because
     * the bundle's 9 predictors at any concurrency exceed a new account's serverless quotas (docs/deploy.md).
     * @default 'in-lambda'
     */
    mode: z.enum(['endpoint', 'instance', 'in-lambda']).default('in-lambda'),
    /** Serverless memory in MB: 1024–6144 in steps of 1024. @default 2048 */
    serverlessMemoryMb: z
      .number()
      .int()
      .min(1024, 'serverlessMemoryMb must be at least 1024')
      .max(6144, 'serverlessMemoryMb must be at most 6144')
      .refine((mb) => mb % 1024 === 0, 'serverlessMemoryMb must be a multiple of 1024')
      .default(2048),
    /** Serverless max concurrency per endpoint (1–200). @default 5 */
    serverlessMaxConcurrency: positiveInt(200).default(5),
    /** Instance type in `instance` mode. @default 'ml.m5.large' */
    instanceType: z
      .string()
      .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'instanceType must look like ml.<family>.<size>, e.g. ml.m5.large')
      .default('ml.m5.large'),
    /** Instances per endpoint in `instance` mode. @default 1 */
    instanceCount: positiveInt(10).default(1),
    /** Timeout of one InvokeEndpoint call before the feature function falls back, in ms (50–60,000). @default 2000 */
    endpointTimeoutMs: z.number().int().min(50).max(60_000).default(2_000),
    /**
     * The account's serverless inference quotas, checked at synth: endpoints, and total `MaxConcurrency`
     * over all serverless endpoints (quota code L-96300102). Raise them here after Service Quotas grants more.
     * @default SERVERLESS_QUOTA_DEFAULTS (5 endpoints, 10 total concurrency)
     */
    serverlessQuota: z
      .object({
        maxEndpoints: positiveInt(10_000).default(SERVERLESS_QUOTA_DEFAULTS.maxEndpoints),
        maxTotalConcurrency: positiveInt(100_000).default(SERVERLESS_QUOTA_DEFAULTS.maxTotalConcurrency),
      })
      .strict()
      .default({ ...SERVERLESS_QUOTA_DEFAULTS }),
  })
  .strict()
  .default({
    mode: 'in-lambda',
    serverlessQuota: { ...SERVERLESS_QUOTA_DEFAULTS },
    serverlessMemoryMb: 2048,
    serverlessMaxConcurrency: 5,
    instanceType: 'ml.m5.large',
    instanceCount: 1,
    endpointTimeoutMs: 2_000,
  });

const IngestSchema = z
  .object({
    /**
     * Devices publish to `$aws/rules/<rule>/pdm/{site}/{asset}/{kind}` (IoT Core Basic Ingest: no
     * messaging charge, no broker). The device policy allows exactly one of the two forms.
     * @default true
     */
    basicIngest: z.boolean().default(true),
  })
  .strict()
  .default({ basicIngest: true });

const ProvisioningSchema = z
  .object({
    /**
     * Fleet provisioning by claim: a template, its role and the claim policy, for factories that flash
     * one claim certificate into every device. Off: devices are registered with `pdm devices register`.
     * @default false
     */
    fleetByClaim: z.boolean().default(false),
  })
  .strict()
  .default({ fleetByClaim: false });

const ModelsSchema = z
  .object({
    /**
     * Score the shadow challengers the model bundle carries (chosen in the registry with
     * `pdm models shadow`) next to the champions, into the history only; `false` leaves them unloaded
     * (saves their CPU, docs/benchmarks.md). Which version shadows is the registry's choice, whether
     * a stage spends CPU on it is this switch (docs/models.md "Shadow challengers"). @default true
     */
    shadow: z.boolean().default(true),
  })
  .strict()
  .default({ shadow: true });

const DriftSchema = z
  .object({
    /** Count feature vectors and publish `FeatureDriftPsi` per asset model (docs/drift.md). @default true */
    enabled: z.boolean().default(true),
    /** Rolling window the PSI is computed over, in hours of event time. @default 24 */
    windowHours: positiveInt(744).default(DEFAULT_WINDOW_HOURS),
    /** Rows a window needs before it has a PSI (below: no data point, not 0). @default 500 */
    minCount: positiveInt(10_000_000).default(DEFAULT_MIN_COUNT),
    /** Least seconds between two window reads per container and asset model (bounds the read cost). @default 60 */
    evaluateSeconds: z.number().int().min(0).max(3_600).default(60),
  })
  .strict()
  .default({ enabled: true, windowHours: DEFAULT_WINDOW_HOURS, minCount: DEFAULT_MIN_COUNT, evaluateSeconds: 60 });

/** Defaults of the model lifecycle in AWS (docs/models.md, "Retraining pipeline"). */
export const RETRAINING_DEFAULTS = {
  autoPromote: false,
  driftPsiThreshold: DEFAULT_PSI_THRESHOLD,
  holdoutFraction: 0.2,
  instanceType: 'ml.m5.large',
  maxRuntimeMinutes: 60,
  volumeSizeGb: 10,
  parallelTrainingJobs: 1,
} as const;

const RetrainingSchema = z
  .object({
    /**
     * Approve a retrained version without a human when it passes the gate against the deployed champion
     * on the same held-out rows (RMSE may rise ≤ 2 % relative, PR-AUC may fall ≤ 0.01). Off: every
     * version waits in PendingManualApproval for `pdm models approve`. @default false
     */
    autoPromote: z.boolean().default(RETRAINING_DEFAULTS.autoPromote),
    /**
     * Max PSI over an asset model's top-10 features (metric pdm/FeatureDriftPsi) above which its drift
     * alarm fires and retraining starts. 0.2 is the common single cut-off between moderate and
     * significant shift (notes/lifecycle-and-provisioning.md §4). @default 0.2
     */
    driftPsiThreshold: z.number().positive().max(10).default(RETRAINING_DEFAULTS.driftPsiThreshold),
    /**
     * EventBridge schedule expression that also starts retraining of every asset model, e.g.
     * `rate(7 days)` or `cron(0 3 ? * MON *)`. Unset: retraining runs on drift or by hand only, so an
     * idle stage never pays for a training job. @default - no schedule
     */
    schedule: z
      .string()
      .regex(/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^)]+\))$/, 'schedule must be an EventBridge rate(…) or cron(…) expression')
      .optional(),
    /** Newest share of the observed time held out for evaluation (0.05–0.5); the 0.2 before it is the validation slice (calibration, alert thresholds). @default 0.2 */
    holdoutFraction: z.number().min(0.05).max(0.5).default(RETRAINING_DEFAULTS.holdoutFraction),
    /** Training instance. A new account's quota for ml.m5.large training job usage is small but non-zero; see docs/models.md. @default 'ml.m5.large' */
    instanceType: z
      .string()
      .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'instanceType must look like ml.<family>.<size>, e.g. ml.m5.large')
      .default(RETRAINING_DEFAULTS.instanceType),
    /** A training job is stopped after this many minutes (StoppingCondition). @default 60 */
    maxRuntimeMinutes: z.number().int().min(5).max(1_440).default(RETRAINING_DEFAULTS.maxRuntimeMinutes),
    /** Training volume, GB. @default 10 */
    volumeSizeGb: z.number().int().min(1).max(512).default(RETRAINING_DEFAULTS.volumeSizeGb),
    /**
     * Training jobs of one run that may run at once (the Map state's MaxConcurrency). 1 keeps a run
     * inside a one-instance training quota; each job uses one instance. @default 1
     */
    parallelTrainingJobs: z.number().int().min(1).max(20).default(RETRAINING_DEFAULTS.parallelTrainingJobs),
  })
  .strict()
  .default({ ...RETRAINING_DEFAULTS });

const email = z.email('not an email address');
const sms = z.string().regex(/^\+[1-9]\d{6,14}$/, 'not an E.164 phone number (e.g. +14155550100)');
const httpsUrl = z.url({ protocol: /^https$/, error: 'not an https:// URL' });
const sqsArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/, 'not an SQS queue ARN');

const SubscriptionsSchema = z
  .object({
    emails: z.array(email).default([]),
    sms: z.array(sms).default([]),
    https: z.array(httpsUrl).default([]),
    sqs: z.array(sqsArn).default([]),
    /** Deliver only events of these sites (SNS payload filter on `detail.siteId`). @default - all sites */
    siteIds: z.array(z.string().min(1)).min(1).optional(),
    /** Deliver only events of these asset models (payload filter on `detail.assetModel`). @default - all models */
    assetModels: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict()
  .default({ emails: [], sms: [], https: [], sqs: [] });

const AlertsSchema = z
  .object({
    critical: SubscriptionsSchema,
    warning: SubscriptionsSchema,
    /** Operations topic: alarms of the pipeline itself. */
    ops: SubscriptionsSchema,
    /** Dashboard base URL linked from e-mail and SMS alerts (`<url>/#/asset/<assetId>`). @default - no link */
    dashboardUrl: httpsUrl.optional(),
  })
  .strict()
  .default({
    critical: { emails: [], sms: [], https: [], sqs: [] },
    warning: { emails: [], sms: [], https: [], sqs: [] },
    ops: { emails: [], sms: [], https: [], sqs: [] },
  });

export const StageConfigSchema = z
  .object({
    /** Stage name: prefixes stack names and physical names. @default 'dev' */
    stage: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,11}$/, 'stage must be 1–12 characters: lower-case letters, digits, hyphens, starting with a letter')
      .default('dev'),
    /** Target account; unset means the CLI's default (or environment-agnostic). */
    account: z.string().regex(/^\d{12}$/, 'account must be a 12-digit AWS account id').optional(),
    /** Target region; bin/ falls back to CDK_DEFAULT_REGION, then us-east-1. */
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'region must look like eu-west-1').optional(),
    streams: StreamsSchema,
    /** Consumer of the raw stream (the clean function). */
    clean: consumerSchema(CONSUMER_DEFAULTS.clean),
    /** Consumer of the clean stream (the feature function). */
    features: consumerSchema(CONSUMER_DEFAULTS.features),
    timestream: TimestreamSchema,
    scoring: ScoringSchema,
    /** Feature drift (PSI) of the served vectors against each model's training reference. */
    drift: DriftSchema,
    /** Model serving options beyond scoring: shadow challengers. */
    models: ModelsSchema,
    ingest: IngestSchema,
    provisioning: ProvisioningSchema,
    alerts: AlertsSchema,
    /** Model lifecycle in AWS: drift alarms, the retraining state machine, promotion. */
    retraining: RetrainingSchema,
    /** CloudWatch Logs retention of functions and the transitions log, in days. @default 30 */
    logRetentionDays: z
      .number()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        message: `logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
    /** What `cdk destroy` does to tables, buckets, streams, the key and Timestream. @default 'retain' */
    dataRemovalPolicy: z.enum(['retain', 'destroy']).default('retain'),
    /** Days before quarantine and rule-error objects expire. @default 90 */
    quarantineExpirationDays: positiveInt(3_650).default(90),
  })
  .strict();

/** The validated stage configuration. */
export type StageConfig = z.infer<typeof StageConfigSchema>;
/** Settings of one stream consumer. */
export type ConsumerConfig = z.infer<ReturnType<typeof consumerSchema>>;
/** Subscriptions of one topic. */
export type SubscriptionsConfig = z.infer<typeof SubscriptionsSchema>;
/** Drift settings. */
export type DriftConfig = z.infer<typeof DriftSchema>;
/** Retraining settings. */
export type RetrainingConfig = z.infer<typeof RetrainingSchema>;
/** Scoring settings. */
export type ScoringConfig = z.infer<typeof ScoringSchema>;

/**
 * Parses the raw context value (`undefined` gives the defaults) into a stage config.
 * @throws StageConfigError naming every bad field with its path under `pdm`.
 */
export function parseStageConfig(raw: unknown): StageConfig {
  const result = StageConfigSchema.safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${[CONFIG_CONTEXT_KEY, ...issue.path.map(String)].join('.')}: ${issue.message}`)
      .join('; ');
    throw new StageConfigError(`invalid stage config in cdk.json context "${CONFIG_CONTEXT_KEY}": ${problems}`);
  }
  return result.data;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Lays a command-line override onto the cdk.json object: objects merge key by key (recursively),
 * arrays and scalars replace, and `null` removes the key so its default applies. So `-c pdm='{"stage":
 * "prod"}'` keeps cdk.json's subscriptions, and `{"alerts":{"ops":{"emails":["a@b.c"]}}}` replaces only
 * that list (docs/deploy.md, "-c merge semantics").
 */
export function mergeStageContext(base: unknown, override: unknown): unknown {
  if (!isPlainObject(override)) return override;
  const out: Record<string, unknown> = isPlainObject(base) ? { ...base } : {};
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else out[key] = isPlainObject(value) ? mergeStageContext(out[key], value) : value;
  }
  return out;
}

/**
 * Reads the context value as given on the command line (`-c pdm='{"stage":"prod"}'` arrives as a JSON
 * string, deep-merged onto `cdkJsonValue`, the `pdm` object of cdk.json) or in cdk.json (an object).
 */
export function readStageConfig(contextValue: unknown, cdkJsonValue?: unknown): StageConfig {
  if (typeof contextValue === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(contextValue);
    } catch {
      throw new StageConfigError(`context "${CONFIG_CONTEXT_KEY}" given as a string must be JSON`);
    }
    if (!isPlainObject(parsed)) throw new StageConfigError(`context "${CONFIG_CONTEXT_KEY}" given on the command line must be a JSON object, got ${contextValue}`);
    return parseStageConfig(mergeStageContext(cdkJsonValue ?? {}, parsed));
  }
  return parseStageConfig(contextValue);
}
