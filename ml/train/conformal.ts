/**
 * The interval fit lives in lambdas/core/model/fit-interval.ts, where the retraining evaluation Lambda
 * can import it too; the local trainers keep importing it from here.
 */
export { ConformalInputError, fitRulInterval, MAX_BINS, MIN_ROWS_PER_BIN, RUL_INTERVAL_LEVEL } from '../../lambdas/core/model/fit-interval.ts';
