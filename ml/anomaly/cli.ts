/** `pdm evaluate anomaly`: the anomaly-score measurements of docs/anomaly.md, in sample or out of sample. */
import { type Command, InvalidArgumentError } from 'commander';
import { CANDIDATES, CHOSEN, candidateLabel, evaluateAnomaly, formatReport, loadAzure } from './evaluate.ts';
import {
  azureSplit,
  DEFAULT_TRAIN_UNTIL,
  evaluateOutOfSample,
  formatOutOfSample,
  OutOfSampleSplitError,
  parseDay,
} from './out-of-sample.ts';

function day(value: string): string {
  try {
    parseDay(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return value;
}

interface AnomalyOptions {
  outOfSample?: boolean;
  chosen?: boolean;
  trainUntil?: string;
  json?: boolean;
}

/** The shipped configurations, once each (two asset models share one). */
const chosenCandidates = () => [...new Map(Object.values(CHOSEN).map((c) => [candidateLabel(c), c])).values()];

/** Adds `anomaly` to the `evaluate` command. */
export function register(evaluate: Command): void {
  evaluate
    .command('anomaly')
    .description(
      'anomaly-score candidates on the simulated pump, the Azure PdM slice and C-MAPSS FD001 (docs/anomaly.md); ' +
        'in sample unless --out-of-sample',
    )
    .option(
      '--out-of-sample',
      'fit and measure on disjoint data: FD001 training → test engines, Azure up to --train-until → after it, pump fit seeds → other seeds',
    )
    .option('--train-until <date>', 'last day (YYYY-MM-DD) of the Azure fitting period, with --out-of-sample', day, DEFAULT_TRAIN_UNTIL)
    .option('--chosen', 'only the shipped configurations (faster) instead of all candidates')
    .option('--json', 'print one JSON object')
    .action((opts: AnomalyOptions, command: Command) => {
      const trainUntil = opts.trainUntil ?? DEFAULT_TRAIN_UNTIL;
      const candidates = opts.chosen ? chosenCandidates() : CANDIDATES;
      const azure = loadAzure();
      if (opts.outOfSample) {
        try {
          azureSplit(azure, trainUntil); // a cut outside the slice fails before minutes of work, not after
        } catch (e) {
          if (e instanceof OutOfSampleSplitError) command.error(`error: ${e.message}`);
          throw e;
        }
        const reports = evaluateOutOfSample({ candidates, azure, trainUntil });
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ mode: 'out-of-sample', trainUntil, reports })}\n`
            : `${formatOutOfSample(reports)}\n`,
        );
        return;
      }
      const reports = evaluateAnomaly({ candidates, azure });
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ mode: 'in-sample', reports })}\n`
          : `IN SAMPLE: the Azure and C-MAPSS baselines are measured on the data they were fitted on (the pump's fit and evaluation seeds are disjoint); see --out-of-sample.\n\n${formatReport(reports, azure)}\n`,
      );
    });
}
