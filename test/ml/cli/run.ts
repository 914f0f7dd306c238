/**
 * Runs `train` and `score` as the `pdm` program will once bin/pdm.ts registers them; the tests spawn this
 * file so they do not depend on that wiring.
 */
import { Command } from 'commander';
import { register as registerScore } from '../../../ml/cli/score.ts';
import { register as registerTrain } from '../../../ml/cli/train.ts';

const program = new Command('pdm');
registerTrain(program);
registerScore(program);
await program.parseAsync(process.argv);
