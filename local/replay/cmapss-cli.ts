/**
 * `pdm replay cmapss`: held-out turbofan engines through the whole local pipeline (local/replay/cmapss.ts).
 * Progress goes to stderr, the result to stdout.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { type CmapssReplayResult, DEFAULT_CMAPSS_DIR, DEFAULT_HORIZON_CYCLES, replayCmapss } from './cmapss.ts';

/** `--holdout`: comma-separated engine ids (`3,17,42`) or a share of the engines (`0.2`). */
export function parseHoldout(value: string): number[] | number {
  const text = value.trim();
  if (/^0?\.\d+$/.test(text)) {
    const f = Number(text);
    if (f > 0 && f < 1) return f;
  }
  const ids = text.split(',').map((s) => Number(s.trim()));
  if (text === '' || ids.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new InvalidArgumentError('expected comma-separated engine ids (e.g. 3,17,42) or a fraction in (0, 1) (e.g. 0.2)');
  }
  return ids;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** The `--json` object: the figures and the accounting, without the raw alert list. */
export function cmapssReplayReport(r: CmapssReplayResult): Record<string, unknown> {
  const { alertList: _alerts, ...rest } = r;
  return rest;
}

export function formatCmapssReplay(r: CmapssReplayResult): string[] {
  const s = r.summary;
  const lines = [
    `C-MAPSS ${r.dataset} held-out replay (out of sample): engines ${r.holdout.join(',')} held out, models and anomaly baseline trained on the other ${r.trainingEngines} (seed ${r.seed})`,
    `published ${r.published.telemetry} cycles, refused ${r.published.refused}; training ${r.seconds.train} s, publish ${r.seconds.publish} s, total ${r.seconds.total} s`,
    `samples received ${s.samples.received}  clean ${s.samples.clean}  quarantined ${s.samples.quarantined}`,
    `alerts ${JSON.stringify(r.alertCounts)}`,
    '',
    'engine  end of life  alerts  preceded  lead cycles  false alerts',
  ];
  for (const e of r.perEngine) {
    lines.push(
      [
        String(e.unit).padStart(6),
        String(e.endOfLife).padStart(11),
        String(e.alerts).padStart(6),
        (e.preceded ? 'yes' : 'no').padStart(8),
        (e.leadCycles === null ? '-' : String(e.leadCycles)).padStart(11),
        String(e.falseAlerts).padStart(12),
      ].join('  '),
    );
  }
  lines.push(
    '',
    `engines ${r.engines}  preceded ${r.preceded} (WARNING/CRITICAL ≤ ${r.horizonCycles} cycles before end of life)  ` +
      `median lead ${r.medianLeadCycles ?? '-'} cycles  false alerts ${r.falseAlerts} of ${r.alerts} (earlier than ${r.horizonCycles} cycles)`,
  );
  return lines;
}

/** Adds `cmapss` to the `replay` parent command. */
export function registerCmapss(replay: Command): void {
  replay
    .command('cmapss')
    .description(
      'hold out C-MAPSS training engines, retrain the turbofan models and anomaly baseline without them, replay them through the local pipeline and score the alerts against their end of life',
    )
    .option('--data-dir <dir>', 'folder with train_FD001.txt (and the test files)', DEFAULT_CMAPSS_DIR)
    .option('--holdout <ids|fraction>', 'engine ids (3,17,42) or a share of the engines (0.2)', parseHoldout, 0.2 as number[] | number)
    .option('--seed <n>', 'seed of the held-out draw and of training', positiveInt, 1)
    .option('--horizon <cycles>', 'alerts earlier than this before end of life are false alerts', positiveInt, DEFAULT_HORIZON_CYCLES)
    .option('--json', 'print one JSON object')
    .action(async (opts: { dataDir: string; holdout: number[] | number; seed: number; horizon: number; json?: boolean }) => {
      const result = await replayCmapss({
        dataDir: opts.dataDir,
        holdout: opts.holdout,
        seed: opts.seed,
        horizonCycles: opts.horizon,
        log: (line) => process.stderr.write(`${line}\n`),
        onProgress: (p) => process.stderr.write(`replay ${p.published}/${p.total} messages\n`),
      });
      const out = opts.json ? [JSON.stringify(cmapssReplayReport(result))] : formatCmapssReplay(result);
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
