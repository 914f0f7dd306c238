import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CaseResult, modelDigest, SMALL } from '../../golden/trainer/cases.ts';
import { readMargins, trainerParity } from './golden-suite.ts';

const FIXTURES = join(import.meta.dirname, '../../golden/fixtures/trainer');

/** The trainer no longer writes the models the committed reference was made from. */
class GoldenStaleError extends Error {
  override readonly name = 'GoldenStaleError';
}

// xgboost's side comes from the committed reference (regenerate: `npm run golden`); the live check at
// full scale against the installed xgboost is test/parity/trainer.test.ts (`npm run test:parity`).
trainerParity('trainer golden parity with xgboost 1.7.4 (committed reference)', SMALL, (cases) => {
  const read = (file: string) => readFileSync(join(FIXTURES, file));
  const digests = JSON.parse(read('digests.json').toString('utf8')) as Record<string, string>;
  const changed = cases.filter((c) => digests[c.name] !== modelDigest(c.modelJson)).map((c) => c.name);
  if (changed.length > 0) {
    // xgboost's margins are for the models it was given: a different model needs a new reference.
    throw new GoldenStaleError(
      `the trainer now writes different models for ${changed.join(', ')} than the committed reference was made from: ` +
        'if the change is intended, run `npm run golden` (needs python3-xgboost) and commit test/golden/fixtures',
    );
  }
  const { cases: results } = JSON.parse(read('results.json').toString('utf8')) as { cases: Record<string, CaseResult> };
  return { results, margins: (name, split) => readMargins(read, name, split) };
});
