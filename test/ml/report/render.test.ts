import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ai4iReport, azureReport, cmapssReport } from '../../../ml/report/builders.ts';
import { formatCell, type Report, renderReport, writeReport } from '../../../ml/report/render.ts';
import { ReportInputError, svgScatter } from '../../../ml/report/svg.ts';
import { assertInsideViewBox, assertWellFormed } from './svg-check.ts';

const plot = svgScatter({ series: [{ name: 's', points: [{ x: 1, y: 2 }] }] });

const sample: Report = {
  title: 'Run <1> & "quotes"',
  summary: { RMSE: 13.456789, engines: 100, note: 'a|b' },
  sections: [
    { heading: 'Plot <b>', text: 'first <i>para</i>\n\nsecond', svg: plot },
    { heading: 'Table', table: { columns: ['unit', 'err'], rows: [[1, -2.5], ['<x>', Number.NaN]] } },
  ],
};

describe('renderReport', () => {
  it('escapes every user string in the HTML', () => {
    const { html } = renderReport(sample);
    expect(html).toContain('<h1>Run &lt;1&gt; &amp; &quot;quotes&quot;</h1>');
    expect(html).toContain('<h2>Plot &lt;b&gt;</h2>');
    expect(html).toContain('<p>first &lt;i&gt;para&lt;/i&gt;</p>');
    expect(html).toContain('<td>&lt;x&gt;</td>');
    expect(html).not.toMatch(/<(b|i|x)>/);
  });

  it('produces well-formed HTML with the SVG inline', () => {
    const { html } = renderReport(sample);
    // The doctype and the void <meta> are the only non-XML parts.
    const body = html.replace('<!doctype html>', '').replace(/<meta charset="utf-8">/, '<meta charset="utf-8"/>');
    assertWellFormed(body);
    expect(html).toContain(plot);
  });

  it('links plots as sibling SVG files in Markdown and returns their text', () => {
    const { markdown, svgs } = renderReport(sample);
    expect(Object.keys(svgs)).toEqual(['fig-1-plot-b.svg']);
    expect(svgs['fig-1-plot-b.svg']).toBe(plot);
    expect(markdown).toContain('](fig-1-plot-b.svg)');
    expect(markdown).toContain('| note | a\\|b |');
    expect(markdown).toContain('| RMSE | 13.46 |');
    expect(markdown).toContain('| &lt;x&gt; | n/a |');
  });

  it('rejects a ragged table and a non-SVG plot', () => {
    expect(() =>
      renderReport({ title: 't', summary: {}, sections: [{ heading: 'h', table: { columns: ['a', 'b'], rows: [[1]] } }] }),
    ).toThrow(/row 0 has 1 cells for 2 columns/);
    expect(() => renderReport({ title: 't', summary: {}, sections: [{ heading: 'h', svg: '<img src=x>' }] })).toThrow(
      ReportInputError,
    );
    expect(() => renderReport({ title: ' ', summary: {}, sections: [] })).toThrow(/title/);
  });
});

describe('formatCell', () => {
  it('keeps integers and strings, rounds others to 4 significant digits', () => {
    expect(formatCell(100)).toBe('100');
    expect(formatCell(0.123456)).toBe('0.1235');
    expect(formatCell(1234.56)).toBe('1234.6');
    expect(formatCell(Number.NaN)).toBe('n/a');
    expect(formatCell('x')).toBe('x');
  });
});

describe('writeReport', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes report.md, report.html and the linked SVG files', () => {
    dir = mkdtempSync(join(tmpdir(), 'report-test-'));
    const out = writeReport(join(dir, 'nested'), sample);
    const files = readdirSync(join(dir, 'nested')).sort();
    expect(files).toEqual(['fig-1-plot-b.svg', 'report.html', 'report.md']);
    expect(readFileSync(out.svgs[0]!, 'utf8')).toBe(plot);
    expect(readFileSync(out.markdown, 'utf8')).toContain('](fig-1-plot-b.svg)');
  });
});

describe('cmapssReport', () => {
  it('summarises the predictions and plots one point per engine', () => {
    const predictions = [
      { unit: 1, true: 10, pred: 14 },
      { unit: 2, true: 100, pred: 80 },
      { unit: 3, true: 50, pred: 50 },
    ];
    const r = cmapssReport({ rmse: 11.7, nasaScore: 4.2, predictions, worst: 2 });
    expect(r.summary['mean error (pred − true)']).toBeCloseTo(-16 / 3, 12);
    expect(r.summary['late predictions (pred > true)']).toBe(1);
    const svg = r.sections[0]!.svg!;
    assertWellFormed(svg);
    assertInsideViewBox(svg);
    expect(svg.match(/<circle/g)).toHaveLength(3);
    expect(r.sections[1]!.table!.rows.map((row) => row[0])).toEqual([2, 1]);
  });

  it('rejects a NaN prediction by index, and renders an empty state for no engines', () => {
    expect(() => cmapssReport({ rmse: 1, nasaScore: 1, predictions: [{ unit: 1, true: 5, pred: Number.NaN }] })).toThrow(
      /predictions\[0\]\.pred/,
    );
    const r = cmapssReport({ rmse: Number.NaN, nasaScore: 0, predictions: [] });
    expect(r.sections[0]!.svg).toContain('no data');
    expect(renderReport(r).markdown).toContain('| RMSE | n/a |');
  });
});

describe('ai4iReport', () => {
  it('draws PR and ROC curves for every series and the confusion counts of the first', () => {
    const labels = [1, 0, 1, 0, 0];
    const r = ai4iReport({
      prAuc: 0.8,
      rocAuc: 0.9,
      f1: 0.7,
      threshold: 0.65,
      series: [
        { name: 'ours', scores: [0.9, 0.8, 0.7, 0.6, 0.1], labels },
        { name: 'other', scores: [0.5, 0.4, 0.3, 0.2, 0.1], labels },
      ],
      curves: [{ name: 'given', pr: [{ x: 0, y: 1 }, { x: 1, y: 0.4 }], roc: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }],
    });
    const [pr, roc, conf] = r.sections;
    for (const s of [pr!, roc!]) {
      assertWellFormed(s.svg!);
      assertInsideViewBox(s.svg!);
      expect(s.svg!.match(/<polyline/g)).toHaveLength(3);
    }
    expect(pr!.text).toContain('40.00%');
    // threshold 0.65: scores 0.9, 0.8, 0.7 flagged -> tp 2, fp 1, fn 0, tn 2
    expect(conf!.table!.rows).toEqual([
      ['actual failure', 2, 0],
      ['actual no failure', 1, 2],
    ]);
  });
});

describe('azureReport', () => {
  it('averages per-component scores and adds the lead-time column only when given', () => {
    const r = azureReport({
      perComponent: [
        { component: 'comp1', precision: 0.9, recall: 0.8, f1: 0.85, leadTimeHours: 20 },
        { component: 'comp2', precision: 0.7, recall: 0.6, f1: 0.65 },
      ],
    });
    expect(r.summary['macro F1']).toBeCloseTo(0.75, 12);
    expect(r.sections[1]!.table!.columns).toContain('lead time (h)');
    expect(r.sections[1]!.table!.rows[1]![4]).toBe('n/a');
    assertWellFormed(r.sections[0]!.svg!);
    assertInsideViewBox(r.sections[0]!.svg!);
    const noLead = azureReport({ perComponent: [{ component: 'c', precision: 1, recall: 1, f1: 1 }] });
    expect(noLead.sections[1]!.table!.columns).not.toContain('lead time (h)');
  });

  it('rejects NaN scores with the component index', () => {
    expect(() => azureReport({ perComponent: [{ component: 'c', precision: Number.NaN, recall: 1, f1: 1 }] })).toThrow(
      /perComponent\[0\]\.precision/,
    );
  });
});
