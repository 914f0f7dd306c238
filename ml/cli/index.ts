/** Registers the model commands (train, score, evaluate …) on the `pdm` program. */
import type { Command } from 'commander';
import { register as registerEvaluateAnomaly } from '../anomaly/cli.ts';
import { register as registerEvaluateAi4i } from './evaluate-ai4i.ts';
import { register as registerEvaluateAzure } from './evaluate-azure.ts';
import { register as registerEvaluateCmapss } from './evaluate-cmapss.ts';
import { register as registerModels } from './models.ts';
import { register as registerScore } from './score.ts';
import { register as registerTrain } from './train.ts';
import { register as registerReference } from './reference.ts';

export function registerModelCommands(program: Command): void {
  registerTrain(program);
  registerReference(program);
  registerModels(program);
  registerScore(program);
  const evaluate = program
    .command('evaluate')
    .description('evaluate the models on public benchmark data sets (C-MAPSS, AI4I 2020, Azure PdM)');
  registerEvaluateCmapss(evaluate);
  registerEvaluateAi4i(evaluate);
  registerEvaluateAzure(evaluate);
  registerEvaluateAnomaly(evaluate);
}
