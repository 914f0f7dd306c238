import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scoreCsv } from '../../../ml/cli/score.ts';

const ROOT = join(import.meta.dirname, '../../..');

const ulps = (a: number, b: number) => {
  const buf = new Float32Array([a, b]);
  const i = new Int32Array(buf.buffer);
  return Math.abs(i[0]! - i[1]!);
};

type Reference = Record<string, { pred: string[]; margin: string[]; contribs: number[][] }>;

/**
 * `pdm score` against xgboost 1.7.4 on the models, CSVs and outputs that test/golden/score/make_score.py
 * wrote into the folder `prepare` returns (the committed copy, or a live one).
 */
export function scoreParity(title: string, prepare: () => string | Promise<string>): void {
  describe(title, () => {
    let dir = '';
    let ref: Reference;
    beforeAll(async () => {
      dir = await prepare();
      ref = JSON.parse(readFileSync(join(dir, 'xgb.json'), 'utf8')) as Reference;
    });
    const csvFor = (model: string) => readFileSync(join(dir, model === 'plain.ubj' ? 'plain.csv' : 'rows.csv'), 'utf8');

    it('prints the same lines as the container for a named JSON model, through the command', () => {
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'test/ml/cli/run.ts'), 'score', '--model', join(dir, 'named.json'), '--input', join(dir, 'rows.csv'), '--margin'],
        { cwd: ROOT, encoding: 'utf8' },
      );

      expect(out.trimEnd().split('\n')).toEqual(ref['named.json']!.margin);
    });

    for (const name of ['named.json', 'plain.ubj']) {
      it(`matches xgboost outputs (≤2 ulps, expf) and contributions for ${name}`, () => {
        const bytes = new Uint8Array(readFileSync(join(dir, name)));
        const r = ref[name]!;

        const csv = csvFor(name);

        const pred = scoreCsv(bytes, csv);
        const margin = scoreCsv(bytes, csv, { margin: true });
        const contribs = scoreCsv(bytes, csv, { contribs: true });

        expect(margin).toEqual(r.margin);
        pred.forEach((line, i) => expect(ulps(Number(line), Number(r.pred[i]))).toBeLessThanOrEqual(2));
        contribs.forEach((line, i) => {
          const got = line.split(',').map(Number);
          const want = r.contribs[i]!;
          expect(got).toHaveLength(want.length);
          const tol = 1e-5 * Math.max(1, Math.abs(Number(r.margin[i])));
          got.forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThanOrEqual(tol));
        });
      });
    }
  });
}
