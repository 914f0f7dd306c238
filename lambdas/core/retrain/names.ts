/**
 * Names the model lifecycle shares between the CDK app, the Lambda functions and the command line:
 * the SageMaker model package group of one predictor, and the training job of one retraining run.
 * Pure, so the stack and the adapter can never disagree on a name.
 */

/** A name SageMaker would refuse, or a stage/model/predictor that cannot become one. */
export class RegistryNameError extends Error {
  override readonly name: string = 'RegistryNameError';
}

/**
 * `ModelPackageGroupName` and `TrainingJobName` share this pattern and the 63-character limit, no
 * underscores (AWS::SageMaker::ModelPackageGroup, CloudFormation reference; CreateTrainingJob
 * TrainingJobName, SageMaker API reference): notes/lifecycle-and-provisioning.md §1.
 */
export const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
export const SAGEMAKER_NAME_MAX = 63;

const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** @throws RegistryNameError unless `name` is a valid SageMaker resource name. */
export function checkSageMakerName(name: string, what: string): string {
  if (name.length > SAGEMAKER_NAME_MAX || !SAGEMAKER_NAME.test(name)) {
    throw new RegistryNameError(`${what} "${name}" must match ${SAGEMAKER_NAME.source} and be at most ${SAGEMAKER_NAME_MAX} characters`);
  }
  return name;
}

/**
 * `pdm-<stage>-<assetModel>-<predictor>`, lower-case, every run of other characters (underscores
 * included) turned into one hyphen. Refused, not truncated, when too long: a shortened name could
 * collide with another predictor's group, and group names are create-only (replacement).
 */
export function modelPackageGroupName(stage: string, assetModel: string, predictor: string): string {
  const parts = [stage, assetModel, predictor].map(slug);
  if (parts.some((p) => p === '')) throw new RegistryNameError(`stage "${stage}", asset model "${assetModel}" and predictor "${predictor}" must each hold a letter or digit`);
  return checkSageMakerName(`pdm-${parts.join('-')}`, 'model package group name');
}

/**
 * A training job name unique per retraining run and predictor: `pdm-<stage>-<yyyymmddThhmmss>-<run>-<i>`,
 * where `run` is a short slug of the Step Functions execution name (unique within the state machine)
 * and `i` the predictor's index in the run. At most 63 characters by construction.
 */
export function trainingJobName(stage: string, startedAtMs: number, executionName: string, index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 99) throw new RegistryNameError(`predictor index must be 0–99, got ${index}`);
  const stamp = new Date(startedAtMs).toISOString().replace(/[-:]/g, '').slice(0, 15).toLowerCase();
  const run = slug(executionName).replace(/-/g, '').slice(-8) || 'run';
  return checkSageMakerName(`pdm-${slug(stage)}-${stamp}-${run}-${index}`, 'training job name');
}
