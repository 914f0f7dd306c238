export { DEFAULT_BASELINES } from './defaults.ts';
export * from './score.ts';
export * from './types.ts';
