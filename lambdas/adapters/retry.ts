/** Bounded exponential backoff with full jitter, shared by the AWS adapters. */

export interface BackoffOptions {
  /** Attempts in total, the first included. @default 4 */
  readonly attempts?: number;
  /** Delay before the first retry, in ms; doubles per retry. @default 50 */
  readonly baseDelayMs?: number;
  /** Ceiling of one delay, in ms. @default 1000 */
  readonly maxDelayMs?: number;
  /** Injectable for tests (instant retries). @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injectable for deterministic tests. @default Math.random */
  readonly random?: () => number;
}

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface ResolvedBackoff {
  readonly attempts: number;
  /** Sleeps before retry number `retry` (1-based). */
  pause(retry: number): Promise<void>;
}

export function backoff(options: BackoffOptions = {}): ResolvedBackoff {
  const attempts = Math.max(1, options.attempts ?? 4);
  const base = options.baseDelayMs ?? 50;
  const max = options.maxDelayMs ?? 1_000;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  return {
    attempts,
    // Full jitter: concurrent Lambda containers that were throttled together do not retry together.
    pause: (retry) => sleep(Math.floor(random() * Math.min(max, base * 2 ** (retry - 1)))),
  };
}

/** Error name of an SDK error (or any thrown value). */
export function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const THROTTLING = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerException',
  'InternalFailure',
]);

/** Whether an error is worth retrying (throttling and transient server faults). */
export function isRetryable(err: unknown): boolean {
  if (THROTTLING.has(errorName(err))) return true;
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}
