/**
 * Evaluation reports as Markdown (plots as sibling `.svg` files, which GitHub renders from relative
 * links) and as one self-contained HTML page (plots inline). `writeReport` puts `report.md`,
 * `report.html` and the SVG files in one folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeXml, ReportInputError } from './svg.ts';

export type Cell = string | number;

export interface ReportTable {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

export interface ReportSection {
  readonly heading: string;
  /** Plain text (escaped in both outputs); blank lines separate paragraphs. */
  readonly text?: string;
  readonly table?: ReportTable;
  /** A complete SVG document, e.g. from `svgScatter`; inserted as markup, not escaped. */
  readonly svg?: string;
}

export interface Report {
  readonly title: string;
  /** Headline figures, shown first as a two-column table in insertion order. */
  readonly summary: Readonly<Record<string, Cell>>;
  readonly sections: readonly ReportSection[];
}

export interface RenderedReport {
  readonly markdown: string;
  readonly html: string;
  /** SVG files the Markdown links to, by file name. */
  readonly svgs: Readonly<Record<string, string>>;
}

export interface WrittenReport {
  readonly markdown: string;
  readonly html: string;
  readonly svgs: readonly string[];
}

/** Numbers for people: integers as is, others to 4 significant digits, NaN as "n/a". */
export function formatCell(v: Cell): string {
  if (typeof v === 'string') return v;
  if (Number.isNaN(v)) return 'n/a';
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 1000) return v.toFixed(1);
  return String(Number(v.toPrecision(4)));
}

function slug(s: string): string {
  const t = s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return t === '' ? 'plot' : t;
}

function mdText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function mdCell(v: Cell): string {
  return mdText(formatCell(v)).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function mdTable(t: ReportTable): string[] {
  return [
    `| ${t.columns.map(mdCell).join(' | ')} |`,
    `| ${t.columns.map(() => '---').join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
  ];
}

function htmlTable(t: ReportTable): string {
  const head = t.columns.map((c) => `<th>${escapeXml(c)}</th>`).join('');
  const body = t.rows
    .map((r) => `<tr>${r.map((v) => `<td${typeof v === 'number' ? ' class="n"' : ''}>${escapeXml(formatCell(v))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function checkReport(r: Report): void {
  if (r.title.trim() === '') throw new ReportInputError('report title is empty');
  r.sections.forEach((s, i) => {
    if (s.table) {
      s.table.rows.forEach((row, j) => {
        if (row.length !== s.table!.columns.length) {
          throw new ReportInputError(
            `section ${i} "${s.heading}": table row ${j} has ${row.length} cells for ${s.table!.columns.length} columns`,
          );
        }
      });
    }
    if (s.svg !== undefined && !/^\s*<svg[\s>]/.test(s.svg)) {
      throw new ReportInputError(`section ${i} "${s.heading}": svg must be an <svg> document`);
    }
  });
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 10px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
figure{margin:1em 0}svg{max-width:100%;height:auto}`;

/** Renders a report; plots go to `fig-<n>-<heading>.svg` links in Markdown and inline in HTML. */
export function renderReport(r: Report): RenderedReport {
  checkReport(r);
  const summary: ReportTable = {
    columns: ['metric', 'value'],
    rows: Object.entries(r.summary).map(([k, v]) => [k, v]),
  };
  const md: string[] = [`# ${mdText(r.title)}`, ''];
  const html: string[] = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeXml(r.title)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeXml(r.title)}</h1>`,
  ];
  if (summary.rows.length > 0) {
    md.push(...mdTable(summary), '');
    html.push(htmlTable(summary));
  }
  const svgs: Record<string, string> = {};
  r.sections.forEach((s, i) => {
    md.push(`## ${mdText(s.heading)}`, '');
    html.push(`<section><h2>${escapeXml(s.heading)}</h2>`);
    if (s.text) {
      for (const para of s.text.split(/\n\s*\n/)) {
        md.push(mdText(para.trim()), '');
        html.push(`<p>${escapeXml(para.trim())}</p>`);
      }
    }
    if (s.svg !== undefined) {
      const name = `fig-${i + 1}-${slug(s.heading)}.svg`;
      svgs[name] = s.svg;
      md.push(`![${mdText(s.heading).replace(/[[\]]/g, '')}](${name})`, '');
      html.push(`<figure>${s.svg}</figure>`);
    }
    if (s.table) {
      md.push(...mdTable(s.table), '');
      html.push(htmlTable(s.table));
    }
    html.push('</section>');
  });
  html.push('</body></html>', '');
  return { markdown: md.join('\n'), html: html.join('\n'), svgs };
}

/** Writes `report.md`, `report.html` and the SVG files into `dir` (created if missing). */
export function writeReport(dir: string, r: Report): WrittenReport {
  const rendered = renderReport(r);
  mkdirSync(dir, { recursive: true });
  const markdown = join(dir, 'report.md');
  const html = join(dir, 'report.html');
  writeFileSync(markdown, rendered.markdown);
  writeFileSync(html, rendered.html);
  const svgs = Object.entries(rendered.svgs).map(([name, text]) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  });
  return { markdown, html, svgs };
}
