/** The model registry: version records, the promotion gate (pure), and the local folder store. */
export { canonicalJson, evaluationId, evaluationsOf } from './evaluations.ts';
export { gate, type GateCheck, type GateInput, type GateResult, limitOf, type Tolerance, TOLERANCES } from './gate.ts';
export {
  type AliasMove,
  type Aliases,
  aliasesSchema,
  championStacks,
  challengersOf,
  type Evaluation,
  parseVersionId,
  VersionIdError,
  versionId,
  type VersionRecord,
  versionRecordSchema,
} from './record.ts';
