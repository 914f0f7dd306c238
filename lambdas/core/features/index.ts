export { batchFeatureVector, type FeatureSample } from './batch.ts';
export {
  createFeatureState,
  FEATURE_ENGINE_VERSION,
  type FeatureContext,
  FeatureInputError,
  type FeatureState,
  FeatureStateMismatchError,
  featureNames,
  featureStateBytes,
  featureVector,
  updateFeatureEvents,
  restartFeatureHistory,
  updateFeatureState,
} from './engine.ts';
export { HISTORY_LABEL } from './history.ts';
export {
  batchEventCounts,
  EVENT_BUCKETS_PER_WINDOW,
  EventFeatureInputError,
  type EventLayout,
  EventStateMismatchError,
  eventLayout,
  type FeatureEvent,
} from './events.ts';
export {
  BUCKETS_PER_WINDOW,
  type FeatureLayout,
  FeatureLayoutError,
  featureLayout,
  MAX_EXACT_CYCLES,
  WINDOW_KEYS,
  WINDOW_STATS,
  type WindowKey,
} from './layout.ts';
