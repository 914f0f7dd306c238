export { DEFAULT_BASELINES, defaultBaselineFor, MissingAnomalyBaselineError } from './defaults.ts';
export * from './score.ts';
export * from './types.ts';
