/** Evaluation reports: SVG plots, Markdown + HTML rendering, and builders for the benchmark data sets. */
export {
  type Ai4iReportInput,
  type AzureReportInput,
  ai4iReport,
  azureReport,
  type CmapssReportInput,
  type ComponentScores,
  type CurveSet,
  cmapssReport,
  type RulPrediction,
  type ScoredSeries,
} from './builders.ts';
export { type Curves, curvesFromScores } from './curves.ts';
export {
  type Cell,
  formatCell,
  type RenderedReport,
  type Report,
  type ReportSection,
  type ReportTable,
  renderReport,
  type WrittenReport,
  writeReport,
} from './render.ts';
export {
  type BarSeries,
  type BarsOptions,
  type CurveOptions,
  type CurveSeries,
  escapeXml,
  niceTicks,
  PALETTE,
  type PlotFrame,
  type Point,
  ReportInputError,
  type ScatterOptions,
  type ScatterSeries,
  svgBars,
  svgCurve,
  svgScatter,
} from './svg.ts';
