/**
 * Ready-made reports from plain evaluation results: C-MAPSS RUL regression, AI4I binary failure
 * classification, Azure PdM per-component failure prediction. Each returns a {@link Report} for
 * `renderReport`/`writeReport`.
 */
import { countsAt } from '../evaluate/metrics.ts';
import { type Curves, curvesFromScores } from './curves.ts';
import type { Cell, Report, ReportSection } from './render.ts';
import { type Point, ReportInputError, svgBars, svgCurve, svgScatter } from './svg.ts';

export interface RulPrediction {
  readonly unit: number | string;
  readonly true: number;
  readonly pred: number;
}

export interface CmapssReportInput {
  /** @default 'C-MAPSS RUL evaluation' */
  readonly title?: string;
  readonly rmse: number;
  readonly nasaScore: number;
  /** One per test engine. */
  readonly predictions: readonly RulPrediction[];
  /** Rows of the largest-error table. @default 10 */
  readonly worst?: number;
}

function finite(v: number, what: string): void {
  if (!Number.isFinite(v)) throw new ReportInputError(`${what} is ${v}; it must be a finite number`);
}

/** Summary, predicted-vs-true scatter with y = x, and the engines with the largest errors. */
export function cmapssReport(i: CmapssReportInput): Report {
  i.predictions.forEach((p, k) => {
    finite(p.true, `predictions[${k}].true`);
    finite(p.pred, `predictions[${k}].pred`);
  });
  const n = i.predictions.length;
  const bias = n === 0 ? Number.NaN : i.predictions.reduce((a, p) => a + (p.pred - p.true), 0) / n;
  const late = i.predictions.filter((p) => p.pred > p.true).length;
  const worst = [...i.predictions]
    .sort((a, b) => Math.abs(b.pred - b.true) - Math.abs(a.pred - a.true))
    .slice(0, i.worst ?? 10);
  return {
    title: i.title ?? 'C-MAPSS RUL evaluation',
    summary: {
      RMSE: i.rmse,
      'NASA score (sum)': i.nasaScore,
      engines: n,
      'mean error (pred − true)': bias,
      'late predictions (pred > true)': late,
    },
    sections: [
      {
        heading: 'Predicted vs true RUL',
        text:
          'One point per test engine, at its last cycle. Points above the dashed y = x line are late ' +
          '(the model gives more life than is left), which the NASA score penalises more than early ones.',
        svg: svgScatter({
          series: [{ name: 'engines', points: i.predictions.map((p) => ({ x: p.true, y: p.pred })) }],
          xLabel: 'true RUL (cycles)',
          yLabel: 'predicted RUL (cycles)',
        }),
      },
      {
        heading: 'Largest errors',
        table: {
          columns: ['unit', 'true RUL', 'predicted', 'error'],
          rows: worst.map((p) => [p.unit, p.true, p.pred, p.pred - p.true]),
        },
      },
    ],
  };
}

export interface ScoredSeries {
  readonly name: string;
  /** Positive-class scores; higher means more likely a failure. */
  readonly scores: ArrayLike<number>;
  /** 0/1 labels, same length. */
  readonly labels: ArrayLike<number>;
}

export interface CurveSet {
  readonly name: string;
  /** (recall, precision) points. */
  readonly pr: readonly Point[];
  /** (false-positive rate, true-positive rate) points. */
  readonly roc: readonly Point[];
}

export interface Ai4iReportInput {
  /** @default 'AI4I 2020 failure classification' */
  readonly title?: string;
  readonly prAuc: number;
  readonly rocAuc: number;
  readonly f1: number;
  readonly precision?: number;
  readonly recall?: number;
  /** The decision threshold behind f1 (`score >= threshold` is a failure). @default none */
  readonly threshold?: number;
  /** Raw scores per model; curves are computed from them. The first one also gets a confusion table. */
  readonly series?: readonly ScoredSeries[];
  /** Precomputed curves, drawn after those of `series`. */
  readonly curves?: readonly CurveSet[];
}

/** Summary, PR and ROC curves of every series, and the confusion counts of the first series. */
export function ai4iReport(i: Ai4iReportInput): Report {
  const computed: (Curves & { name: string })[] = (i.series ?? []).map((s) => ({
    name: s.name,
    ...curvesFromScores(s.scores, s.labels),
  }));
  const sets: CurveSet[] = [...computed, ...(i.curves ?? [])];
  const summary: Record<string, Cell> = { 'PR-AUC': i.prAuc, 'ROC-AUC': i.rocAuc, F1: i.f1 };
  if (i.precision !== undefined) summary.precision = i.precision;
  if (i.recall !== undefined) summary.recall = i.recall;
  if (i.threshold !== undefined) summary.threshold = i.threshold;
  const prevalence = computed[0]?.prevalence;
  const sections: ReportSection[] = [
    {
      heading: 'Precision–recall',
      ...(prevalence !== undefined && Number.isFinite(prevalence)
        ? { text: `The dashed line is the failure rate (${(prevalence * 100).toFixed(2)}%), what a random ranking scores.` }
        : {}),
      svg: svgCurve({
        series: sets.map((s) => ({ name: s.name, points: s.pr })),
        xLabel: 'recall',
        yLabel: 'precision',
        ...(prevalence !== undefined && Number.isFinite(prevalence) ? { baselineY: prevalence } : {}),
      }),
    },
    {
      heading: 'ROC',
      svg: svgCurve({
        series: sets.map((s) => ({ name: s.name, points: s.roc })),
        xLabel: 'false-positive rate',
        yLabel: 'true-positive rate',
        diagonal: true,
      }),
    },
  ];
  const first = i.series?.[0];
  if (first && i.threshold !== undefined) {
    const c = countsAt(first.scores, first.labels, i.threshold);
    sections.push({
      heading: `Confusion counts (${first.name}, threshold ${i.threshold.toPrecision(4)})`,
      table: {
        columns: ['', 'predicted failure', 'predicted no failure'],
        rows: [
          ['actual failure', c.tp, c.fn],
          ['actual no failure', c.fp, c.tn],
        ],
      },
    });
  }
  return {
    title: i.title ?? 'AI4I 2020 failure classification',
    summary,
    sections,
  };
}

export interface ComponentScores {
  readonly component: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Median (or mean) warning time before the failures caught. @default not shown */
  readonly leadTimeHours?: number;
}

export interface AzureReportInput {
  /** @default 'Azure PdM component failure prediction' */
  readonly title?: string;
  readonly perComponent: readonly ComponentScores[];
}

/** Summary with macro averages, precision/recall bars per component, and the per-component table. */
export function azureReport(i: AzureReportInput): Report {
  const pc = i.perComponent;
  pc.forEach((c, k) => {
    for (const key of ['precision', 'recall', 'f1'] as const) finite(c[key], `perComponent[${k}].${key}`);
    if (c.leadTimeHours !== undefined) finite(c.leadTimeHours, `perComponent[${k}].leadTimeHours`);
  });
  const mean = (k: 'precision' | 'recall' | 'f1') =>
    pc.length === 0 ? Number.NaN : pc.reduce((a, c) => a + c[k], 0) / pc.length;
  const withLead = pc.some((c) => c.leadTimeHours !== undefined);
  return {
    title: i.title ?? 'Azure PdM component failure prediction',
    summary: {
      components: pc.length,
      'macro precision': mean('precision'),
      'macro recall': mean('recall'),
      'macro F1': mean('f1'),
    },
    sections: [
      {
        heading: 'Precision and recall per component',
        svg: svgBars({
          categories: pc.map((c) => c.component),
          series: [
            { name: 'precision', values: pc.map((c) => c.precision) },
            { name: 'recall', values: pc.map((c) => c.recall) },
          ],
          yLabel: 'score',
        }),
      },
      {
        heading: 'Per component',
        table: {
          columns: ['component', 'precision', 'recall', 'F1', ...(withLead ? ['lead time (h)'] : [])],
          rows: pc.map((c) => [
            c.component,
            c.precision,
            c.recall,
            c.f1,
            ...(withLead ? [c.leadTimeHours ?? 'n/a'] : []),
          ]),
        },
      },
    ],
  };
}
