/**
 * `npm run golden`: rewrites the committed references under test/golden/fixtures/ with the installed
 * xgboost 1.7.4 (Debian's python3-xgboost and python3-sklearn, or the interpreter PDM_PYTHON names).
 * `npm test` reads them with no Python; `npm run test:parity` checks the same things live.
 *
 * Run it after an intended change to the trainer's output, or to the reference scripts, then commit the
 * folder. Every step is seeded and fit times are left out, so an unchanged tree should regenerate the same
 * bytes (two runs of the evaluator step wrote identical files).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelDigest, SMALL, trainCases, writeCaseInputs } from './trainer/cases.ts';

const HERE = import.meta.dirname;
const FIXTURES = join(HERE, 'fixtures');
const PYTHON = process.env.PDM_PYTHON || '/usr/bin/python3';

function fresh(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

function python(args: string[]): void {
  execFileSync(PYTHON, args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

const probe = spawnSync(PYTHON, ['-c', 'import xgboost, sklearn, numpy; print(xgboost.__version__)'], { encoding: 'utf8' });
if (probe.status !== 0 || !probe.stdout.startsWith('1.7.')) {
  process.stderr.write(
    `npm run golden: ${PYTHON} needs xgboost 1.7.x and scikit-learn (apt-get install -y python3-xgboost python3-sklearn); ` +
      `got ${(probe.stdout || probe.stderr || String(probe.error)).trim()}\n`,
  );
  process.exit(1);
}

process.stderr.write('evaluator reference (xgboost trains and scores 5 models)…\n');
python([join(HERE, 'evaluator', 'make_golden.py'), fresh(join(FIXTURES, 'evaluator')), '--small']);

process.stderr.write('trainer reference (our trainer fits 4 models, xgboost scores them and fits its own)…\n');
const work = mkdtempSync(join(tmpdir(), 'pdm-golden-trainer-'));
try {
  const cases = trainCases(SMALL);
  writeCaseInputs(work, cases, SMALL);
  python([join(HERE, 'trainer', 'golden.py'), work]);
  const out = fresh(join(FIXTURES, 'trainer'));
  for (const f of readdirSync(work)) if (f.endsWith('_margin.f32')) copyFileSync(join(work, f), join(out, f));
  // Fit times differ from run to run and machine to machine: left out, so the reference is reproducible.
  const results = JSON.parse(readFileSync(join(work, 'results.json'), 'utf8')) as { cases: Record<string, Record<string, unknown>> };
  for (const r of Object.values(results.cases)) delete r.xgb_fit_seconds;
  writeFileSync(join(out, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  const digests = Object.fromEntries(cases.map((c) => [c.name, modelDigest(c.modelJson)]));
  writeFileSync(join(out, 'digests.json'), `${JSON.stringify(digests, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

process.stderr.write('score reference (two small xgboost models and their CSV rows)…\n');
python([join(HERE, 'score', 'make_score.py'), fresh(join(FIXTURES, 'score'))]);
process.stderr.write(`wrote ${FIXTURES}\n`);
