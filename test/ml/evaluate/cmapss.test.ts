import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { register } from '../../../ml/cli/evaluate-cmapss.ts';
import { CmapssFormatError } from '../../../ml/datasets/cmapss.ts';
import { datasetName, evaluateCmapss, intervalFigures } from '../../../ml/evaluate/cmapss.ts';
import { CmapssDataError } from '../../../ml/train/turbofan.ts';

const DATA = '../shared/data/cmapss';

/**
 * A small C-MAPSS-format triple cut from FD001's training file, standing in for a user's own data:
 * engines 1–30 train, engines 31–40 cut at 70 % of life for test, the true remaining cycles as RUL.
 */
function writeMiniSet(dir: string): { train: string; test: string; rul: string } {
  const lines = readFileSync(`${DATA}/train_FD001.txt`, 'utf8').split('\n').filter(Boolean);
  const byUnit = new Map<number, string[]>();
  for (const l of lines) {
    const u = Number(l.split(' ')[0]);
    byUnit.set(u, [...(byUnit.get(u) ?? []), l]);
  }
  const train: string[] = [];
  const test: string[] = [];
  const rul: number[] = [];
  for (const [u, ls] of byUnit) {
    if (u <= 30) train.push(...ls);
    else if (u <= 40) {
      const keep = Math.floor(ls.length * 0.7);
      test.push(...ls.slice(0, keep));
      rul.push(ls.length - keep);
    }
  }
  const paths = { train: join(dir, 'train_FD901.txt'), test: join(dir, 'test_FD901.txt'), rul: join(dir, 'RUL_FD901.txt') };
  writeFileSync(paths.train, `${train.join('\n')}\n`);
  writeFileSync(paths.test, `${test.join('\n')}\n`);
  writeFileSync(paths.rul, `${rul.join('\n')}\n`);
  return paths;
}

describe('evaluateCmapss', () => {
  it('reaches RMSE ≤ 13 on FD001 with one seed (standard protocol, truth capped at 125)', () => {
    const r = evaluateCmapss({
      train: `${DATA}/train_FD001.txt`,
      test: `${DATA}/test_FD001.txt`,
      rul: `${DATA}/RUL_FD001.txt`,
      seeds: 1,
    });

    // Measured 10.19 for seed 1; 5 seeds gave 10.22 ± 0.14 with the fold ensemble (docs/cmapss.md).
    expect(r.rmse).toBeLessThanOrEqual(13);
    expect(r.dataset).toBe('FD001');
    expect(r.engines).toEqual({ train: 100, test: 100 });
    expect(r.predictions.length).toBe(100);
    // RUL_FD001.txt starts with 112, 98, 69 (checked by eye in the file).
    expect(r.predictions.slice(0, 3).map((p) => [p.true, p.trueCapped])).toEqual([
      [112, 112],
      [98, 98],
      [69, 69],
    ]);
    const d = r.predictions.map((p) => p.pred - p.trueCapped);
    expect(r.rmse).toBeCloseTo(Math.sqrt(d.reduce((s, x) => s + x * x, 0) / d.length), 9);
    expect(r.rmseSd).toBe(0);
    expect(r.perSeed.length).toBe(1);
    // With one seed the listed bounds are that seed's: the coverage recomputed from them must agree.
    const covered = r.predictions.filter((p) => p.true >= p.lower && (p.true <= p.upper || p.upper >= r.cap)).length;
    expect(r.intervalCoverage).toBeCloseTo(covered / r.predictions.length, 12);
    expect(r.intervalLevel).toBe(0.9);
    expect(r.intervalMedianWidth).toBeGreaterThan(0);
  }, 600_000); // a full training at eta 0.02: minutes on a loaded 2-core machine

  it('names the files when the RUL file and the test file disagree on the engine count', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cmapss-'));
    try {
      const rul = join(dir, 'RUL_short.txt');
      writeFileSync(rul, '10\n20\n');

      const act = () =>
        evaluateCmapss({ train: `${DATA}/train_FD001.txt`, test: `${DATA}/test_FD001.txt`, rul, seeds: 1 });

      expect(act).toThrow(CmapssDataError);
      expect(act).toThrow(/has 2 RUL values but .*test_FD001\.txt has 100 engines/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('reports a malformed file with its path and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cmapss-'));
    try {
      const test = join(dir, 'test_bad.txt');
      writeFileSync(test, '1 1 0.1 0.2\n');

      const act = () => evaluateCmapss({ train: `${DATA}/train_FD001.txt`, test, rul: `${DATA}/RUL_FD001.txt` });

      expect(act).toThrow(CmapssFormatError);
      expect(act).toThrow(`${test}:1: expected 26 columns`);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('intervalFigures', () => {
  it('counts a truth above an upper bound held at the cap as covered and takes the median width', () => {
    // Arrange: truths 10 (inside), 150 (above a bound at the cap 125), 50 (below the lower bound).
    const bounds = [
      { lower: 5, upper: 15 },
      { lower: 100, upper: 125 },
      { lower: 60, upper: 90 },
    ];
    // Act
    const f = intervalFigures(bounds, [10, 150, 50], 125);
    // Assert
    expect(f.coverage).toBeCloseTo(2 / 3, 12);
    expect(f.medianWidth).toBe(25);
  });
});

describe('datasetName', () => {
  it('takes the FDxxx part of the file name, else the base name', () => {
    expect(datasetName('/x/test_FD003.txt')).toBe('FD003');
    expect(datasetName('/x/engines.txt')).toBe('engines.txt');
  });
});

describe('pdm evaluate cmapss', () => {
  let dir: string;
  let paths: { train: string; test: string; rul: string };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cmapss-cli-'));
    paths = writeMiniSet(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true }));

  function run(args: string[]): string {
    const program = new Command('pdm').exitOverride();
    register(program.command('evaluate'));
    let out = '';
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      program.parse(['evaluate', 'cmapss', ...args], { from: 'user' });
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    return out;
  }

  it('prints one JSON object with numeric rmse and nasaScore for any C-MAPSS-format files', () => {
    const out = run(['--train', paths.train, '--test', paths.test, '--rul', paths.rul, '--seeds', '1', '--json']);

    const lines = out.trim().split('\n');
    expect(lines.length).toBe(1);
    const r = JSON.parse(lines[0]!) as { rmse: unknown; nasaScore: unknown; dataset: string; engines: unknown };
    expect(typeof r.rmse).toBe('number');
    expect(typeof r.nasaScore).toBe('number');
    expect(r.dataset).toBe('FD901');
    expect(r.engines).toEqual({ train: 30, test: 10 });
    // 30 training engines still predict 30 %-of-life RUL (≈ 45–100 cycles) far better than a constant.
    expect(r.rmse).toBeLessThan(30);
  });

  it('prints a readable table without --json', () => {
    const out = run(['--train', paths.train, '--test', paths.test, '--rul', paths.rul, '--seeds', '1']);

    expect(out).toContain('C-MAPSS FD901: 30 training engines, 10 test engines');
    expect(out).toMatch(/RMSE\s+\d+\.\d\d ± 0\.00 \(mean ± sd over 1 seeds\)/);
  });

  it('rejects a seed count that is not a positive integer', () => {
    expect(() => run(['--seeds', '0', '--json'])).toThrow(/positive integer/);
  });
});
