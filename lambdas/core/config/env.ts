/**
 * The contract between the CDK app and the Lambda functions: the environment each function reads.
 * The stacks set these names (importing them from here) and the handlers parse them once at module
 * scope with these schemas, so a missing or malformed setting fails the cold start with a clear
 * message instead of the first record. Pure: the caller passes `process.env` in.
 */
import { z } from 'zod';
import { HISTORY_TABLES } from '../history/tables.ts';

export const ENV = {
  /** Kinesis stream the clean function writes to (partition key = assetId). */
  cleanStream: 'PDM_CLEAN_STREAM',
  /** S3 bucket for quarantine records (`quarantine/<reason>/<yyyy>/<mm>/<dd>/…jsonl`). */
  quarantineBucket: 'PDM_QUARANTINE_BUCKET',
  /** DynamoDB table of registered assets (pk `assetId`: siteId, modelId, attributes). */
  assetTable: 'PDM_ASSET_TABLE',
  /** DynamoDB table of twins (pk `assetId`). */
  twinTable: 'PDM_TWIN_TABLE',
  /** Custom EventBridge bus that receives `TwinHealthChanged`. */
  eventBus: 'PDM_EVENT_BUS',
  /** `timestream` or `none` (Timestream for LiveAnalytics is closed to new AWS customers). */
  telemetryStore: 'PDM_TELEMETRY_STORE',
  timestreamDatabase: 'PDM_TIMESTREAM_DATABASE',
  timestreamTelemetryTable: 'PDM_TIMESTREAM_TELEMETRY_TABLE',
  timestreamFeaturesTable: 'PDM_TIMESTREAM_FEATURES_TABLE',
  timestreamPredictionsTable: 'PDM_TIMESTREAM_PREDICTIONS_TABLE',
  /** `endpoint` (SageMaker, with in-Lambda fallback) or `in-lambda` (no endpoint). */
  scoringMode: 'PDM_SCORING_MODE',
  /** JSON object: `{ "<assetModelId>/<predictor>": "<endpoint name>" }`. */
  endpoints: 'PDM_ENDPOINTS',
  /** Timeout of one InvokeEndpoint call before falling back, in ms. */
  endpointTimeoutMs: 'PDM_ENDPOINT_TIMEOUT_MS',
  /** Directory of the model bundle (the model layer mounts at /opt/model). */
  modelDir: 'PDM_MODEL_DIR',
  /** JSON object: `{ "<history table>": "<Firehose delivery stream>" }`; `{}` keeps no history. */
  historyStreams: 'PDM_HISTORY_STREAMS',
  /** DynamoDB table of drift counters (pk `pk`, sk `hour`); unset = no drift metric. */
  driftTable: 'PDM_DRIFT_TABLE',
  /** Rolling drift window in hours (docs/drift.md). */
  driftWindowHours: 'PDM_DRIFT_WINDOW_HOURS',
  /** Rows a window needs before its PSI is computed. */
  driftMinCount: 'PDM_DRIFT_MIN_COUNT',
  /** Least seconds between two window reads per container and asset model. */
  driftEvaluateSeconds: 'PDM_DRIFT_EVALUATE_SECONDS',
  /** `on`: the bundle's shadow challengers are scored and written to the history; `off`: not loaded. */
  shadowScoring: 'PDM_SHADOW_SCORING',
} as const;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const name = z.string().min(1);

const historyStreams = z
  .string()
  .default('{}')
  .transform((text, ctx) => {
    try {
      return z.partialRecord(z.enum(HISTORY_TABLES), z.string().min(1)).parse(JSON.parse(text));
    } catch {
      ctx.addIssue({ code: 'custom', message: `${ENV.historyStreams} must be a JSON object of history table → Firehose stream name` });
      return z.NEVER;
    }
  });

export const CleanFunctionEnvSchema = z.object({
  [ENV.cleanStream]: name,
  [ENV.quarantineBucket]: name,
  [ENV.assetTable]: name,
  [ENV.telemetryStore]: z.enum(['timestream', 'none']).default('none'),
  [ENV.timestreamDatabase]: name.optional(),
  [ENV.timestreamTelemetryTable]: name.optional(),
  [ENV.historyStreams]: historyStreams,
});

export const FeatureFunctionEnvSchema = z.object({
  [ENV.quarantineBucket]: name,
  [ENV.assetTable]: name,
  [ENV.twinTable]: name,
  [ENV.eventBus]: name,
  [ENV.telemetryStore]: z.enum(['timestream', 'none']).default('none'),
  [ENV.timestreamDatabase]: name.optional(),
  [ENV.timestreamFeaturesTable]: name.optional(),
  [ENV.timestreamPredictionsTable]: name.optional(),
  [ENV.scoringMode]: z.enum(['endpoint', 'in-lambda']).default('in-lambda'),
  [ENV.endpoints]: z
    .string()
    .default('{}')
    .transform((text, ctx) => {
      try {
        return z.record(z.string(), z.string().min(1)).parse(JSON.parse(text));
      } catch {
        ctx.addIssue({ code: 'custom', message: `${ENV.endpoints} must be a JSON object of endpoint names` });
        return z.NEVER;
      }
    }),
  [ENV.endpointTimeoutMs]: z.coerce.number().int().min(50).max(60_000).default(2_000),
  [ENV.modelDir]: name.default('/opt/model'),
  [ENV.historyStreams]: historyStreams,
  [ENV.driftTable]: name.optional(),
  [ENV.driftWindowHours]: z.coerce.number().int().min(1).max(744).default(24),
  [ENV.driftMinCount]: z.coerce.number().int().min(1).default(500),
  [ENV.driftEvaluateSeconds]: z.coerce.number().int().min(0).max(3600).default(60),
  [ENV.shadowScoring]: z.enum(['on', 'off']).default('on'),
});

export type CleanFunctionEnv = z.infer<typeof CleanFunctionEnvSchema>;
export type FeatureFunctionEnv = z.infer<typeof FeatureFunctionEnvSchema>;

function parseWith<T>(schema: z.ZodType<T>, env: Readonly<Record<string, string | undefined>>, fn: string): T {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`).join('; ');
    throw new ConfigError(`${fn} function environment is invalid: ${problems}`);
  }
  return result.data;
}

function requireTimestream(
  env: { [ENV.telemetryStore]: 'timestream' | 'none' } & Record<string, unknown>,
  tables: readonly string[],
  fn: string,
): void {
  if (env[ENV.telemetryStore] !== 'timestream') return;
  const missing = [ENV.timestreamDatabase, ...tables].filter((k) => !env[k]);
  if (missing.length > 0) throw new ConfigError(`${fn} function: ${ENV.telemetryStore}=timestream needs ${missing.join(', ')}`);
}

export function parseCleanFunctionEnv(env: Readonly<Record<string, string | undefined>>): CleanFunctionEnv {
  const parsed = parseWith(CleanFunctionEnvSchema, env, 'clean');
  requireTimestream(parsed, [ENV.timestreamTelemetryTable], 'clean');
  return parsed;
}

export function parseFeatureFunctionEnv(env: Readonly<Record<string, string | undefined>>): FeatureFunctionEnv {
  const parsed = parseWith(FeatureFunctionEnvSchema, env, 'feature');
  requireTimestream(parsed, [ENV.timestreamFeaturesTable, ENV.timestreamPredictionsTable], 'feature');
  if (parsed[ENV.scoringMode] === 'endpoint' && Object.keys(parsed[ENV.endpoints]).length === 0) {
    throw new ConfigError(`feature function: ${ENV.scoringMode}=endpoint needs ${ENV.endpoints}`);
  }
  return parsed;
}
