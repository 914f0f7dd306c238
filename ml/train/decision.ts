/**
 * Calibration and alert-threshold fitting lives in the pure core (`lambdas/core/model/fit-decision.ts`)
 * so the AWS retraining evaluation fits them exactly as the trainers and `pdm retrain` do; the trainers
 * keep importing it from here.
 */
export * from '../../lambdas/core/model/fit-decision.ts';
