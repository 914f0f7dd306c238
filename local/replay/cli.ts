/**
 * `pdm replay azure`: the Azure PdM slice through the whole local pipeline, scored against PdM_failures.
 * `bin/pdm.ts` calls {@link register}; progress goes to stderr, the result to stdout.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { type AzureReplayResult, DEFAULT_AZURE_DIR, replayAzure } from './azure.ts';
import { type HeldOutReport, parseTrainUntil, replayAzureHeldOut } from './held-out.ts';
import { registerCmapss } from './cmapss-cli.ts';
import type { ReplayScore } from './score.ts';

export function parseSpeed(value: string): number | 'max' {
  if (value === 'max') return 'max';
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError('expected a positive number of data hours per second, or "max"');
  return n;
}

function parseMachines(value: string): number[] {
  const ids = value.split(',').map((s) => Number(s.trim()));
  if (ids.length === 0 || ids.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new InvalidArgumentError('expected comma-separated machine ids, e.g. 1,2,3');
  }
  return ids;
}

/** The `--json` object: the figures and the accounting, without the raw alert list. */
export function replayReport(r: AzureReplayResult): Record<string, unknown> {
  const { alerts: _alerts, failures, ...rest } = r;
  return {
    mode: 'in-sample',
    inSample: true,
    note: 'the shipped models were trained on this slice: these figures are in-sample; use --train-until for held-out figures',
    ...rest,
    failuresInWindow: failures.length,
  };
}

export function formatHeldOut(r: HeldOutReport): string[] {
  const lines = [
    `HELD-OUT: models, calibration, thresholds and anomaly baseline trained on data before ${r.trainUntil} only`,
    `replayed ${r.window.replayFrom} → ${r.window.last}; scored after ${r.window.scoredFrom}`,
    `failures after the cut ${r.failures}  preceded by a WARNING/CRITICAL alert on that component 1–72 h before: ${r.preceded}` +
      `  median lead ${r.medianLeadHours ?? '-'} h`,
    `component alerts ${r.alerts}  false (no failure of that component within 72 h) ${r.falseAlerts}`,
    `per machine (any alert, any failure): preceded ${r.loose.preceded}/${r.failures}  false ${r.loose.falseAlerts}/${r.loose.alerts}`,
  ];
  for (const [c, x] of Object.entries(r.byComponent)) {
    lines.push(`  ${c}: failures ${x.failures}  preceded ${x.precededStrict}  false ${x.falseStrict}/${x.alertsStrict}`);
  }
  for (const [name, t] of Object.entries(r.thresholds)) {
    lines.push(
      `  ${name}: WATCH ${t.watch}  WARNING ${t.warning}  CRITICAL ${t.critical}  (validation: caught ${t.validation.caught}/${t.validation.failures}, false ${t.validation.falseAlerts}/${t.validation.alerts})`,
    );
  }
  lines.push(`accounting balanced ${JSON.stringify(r.accounting.balanced)}  train ${r.seconds.train} s  replay ${r.seconds.replay} s`);
  return lines;
}

function lead(s: ReplayScore['strict']['leadTime']): string {
  return s.n === 0 ? '-' : `median ${s.medianH} h, min ${s.minH} h, max ${s.maxH} h`;
}

export function formatReplay(r: AzureReplayResult): string[] {
  const s = r.summary;
  const lines = [
    'IN-SAMPLE: the shipped models were trained on this slice (use --train-until DATE for held-out figures)',
    `machines ${r.machines.join(',')}  window ${r.window.first} → ${r.window.last}`,
    `published telemetry ${r.published.telemetry}  maintenance ${r.published.maintenance}  refused ${r.published.refused}` +
      `  in ${r.seconds.publish} s (total with drain ${r.seconds.total} s)`,
    `messages  received ${s.messages.received}  accepted ${s.messages.accepted}  quarantined ${s.messages.quarantined}`,
    `samples   received ${s.samples.received}  clean ${s.samples.clean}  quarantined ${s.samples.quarantined}`,
    `readings  received ${s.readings.received}  clean ${s.readings.clean}  quarantined ${s.readings.quarantined}`,
    `alerts ${JSON.stringify(r.alertCounts)}`,
  ];
  for (const [name, sc] of [['all', r.score.all], ['march', r.score.march]] as const) {
    lines.push(
      `[${name}] failures ${sc.failures}  preceded (≤${sc.horizonH} h) strict ${sc.strict.preceded}, loose ${sc.loose.preceded}`,
      `  lead strict: ${lead(sc.strict.leadTime)}; loose: ${lead(sc.loose.leadTime)}`,
      `  false alerts strict ${sc.strict.falseAlerts}/${sc.strict.alerts}  loose ${sc.loose.falseAlerts}/${sc.loose.alerts}`,
    );
    for (const [c, x] of Object.entries(sc.byComponent)) {
      lines.push(
        `  ${c}: failures ${x.failures}  preceded strict ${x.precededStrict} loose ${x.precededLoose}  false ${x.falseStrict}/${x.alertsStrict}`,
      );
    }
  }
  return lines;
}

export function register(program: Command): void {
  const replay = program.command('replay').description('replay recorded data sets through the whole local pipeline');
  registerCmapss(replay);
  replay
    .command('azure')
    .description('Azure PdM slice (machines 1–20, Jan–Mar 2015) → MQTT → handlers → twins → alerts, scored against PdM_failures')
    .option('--data-dir <dir>', 'directory with the PdM_* files', DEFAULT_AZURE_DIR)
    .option('--speed <x>', 'data hours per real second, or max', parseSpeed, 'max' as number | 'max')
    .option('--machines <ids>', 'comma-separated machine ids (default: all in the slice)', parseMachines)
    .option(
      '--train-until <date>',
      'held out: retrain every predictor and the anomaly baseline on data before DATE only, replay after it and score it',
    )
    .option('--json', 'print one JSON object')
    .action(async (opts: { dataDir: string; speed: number | 'max'; machines?: number[]; json?: boolean; trainUntil?: string }) => {
      if (opts.trainUntil !== undefined) {
        const report = await replayAzureHeldOut({
          trainUntil: parseTrainUntil(opts.trainUntil),
          dataDir: opts.dataDir,
          ...(opts.machines ? { machines: opts.machines } : {}),
          onProgress: (line) => process.stderr.write(`${line}\n`),
        });
        const out = opts.json ? [JSON.stringify(report)] : formatHeldOut(report);
        process.stdout.write(`${out.join('\n')}\n`);
        return;
      }
      const result = await replayAzure({
        dataDir: opts.dataDir,
        speed: opts.speed,
        ...(opts.machines ? { machines: opts.machines } : {}),
        onProgress: (p) => process.stderr.write(`replay ${p.published}/${p.total} messages, data time ${p.clock}\n`),
      });
      const out = opts.json ? [JSON.stringify(replayReport(result))] : formatReplay(result);
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
