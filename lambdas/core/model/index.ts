/** XGBoost-format model runtime: loading, scoring and TreeSHAP. See docs/model-contract.md. */
export * from './errors.ts';
export { BLOCK_ROWS, type CompiledModel, type LoadOptions, loadXgboostModel, NODE_STRIDE } from './model.ts';
export {
  type Link,
  OBJECTIVES,
  type OutputTransform,
  probToMargin,
  sigmoid32,
  transformMargin,
} from './objectives.ts';
export { predict, predictBatch, predictMargin } from './predict.ts';
export { contributions } from './shap.ts';
export { decodeUbjson, type UbjValue } from './ubjson.ts';
