export { type BinnedCuts, binMatrix, computeCuts, valueBin } from './binning.ts';
export { auc, evalMetric, probToMargin, sigmoid } from './objective.ts';
export {
  type EvalMetric,
  type Objective,
  type ResolvedParams,
  resolveParams,
  TrainInputError,
  TrainParamError,
  type TrainParams,
} from './params.ts';
export { type Dataset, type RoundMetrics, type TrainedBooster, type TrainHistory, train } from './train.ts';
export type { TrainedTree } from './tree.ts';
export { formatFloat, writeXgboostJson } from './writer.ts';
