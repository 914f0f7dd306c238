/**
 * `pdm load`: option parsing and printing around {@link runLoad}. `bin/pdm.ts` calls {@link register}.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { type LoadReport, MAX_ASSETS, MAX_DURATION_S, MAX_READINGS_PER_SEC, runLoad } from './load.ts';

function bounded(max: number, integer: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`expected a ${integer ? 'whole ' : ''}number in (0, ${max}]`);
    }
    return n;
  };
}

const out = (line: string) => process.stdout.write(`${line}\n`);

/** The human-readable report. */
export function formatLoadReport(r: LoadReport): string[] {
  const lat = r.latencyMs;
  return [
    `target     ${r.target.readingsPerSec} readings/s for ${r.target.durationSec} s, ${r.target.assets} assets, ${r.target.samplesPerMessage} samples/message`,
    `published  ${r.published.messages} messages, ${r.published.samples} samples, ${r.published.readings} readings in ${r.published.seconds} s (refused ${r.published.refused})`,
    `achieved   ${r.achievedReadingsPerSec} readings/s published; ${r.processedReadingsPerSec} clean readings/s processed (drain ${r.drainSeconds} s)`,
    `samples    received ${r.samples.received}, clean ${r.samples.clean}, quarantined ${r.samples.quarantined}, stored ${r.samples.stored}`,
    `LOST       ${r.lost}`,
    `latency    publish → twin p50 ${lat.p50 ?? '-'} ms, p99 ${lat.p99 ?? '-'} ms, max ${lat.max ?? '-'} ms (n=${lat.n})`,
    `memory     RSS min/max/last ${r.memory.rssMb.min}/${r.memory.rssMb.max}/${r.memory.rssMb.last} MB; heap used ${r.memory.heapUsedMb.min}/${r.memory.heapUsedMb.max}/${r.memory.heapUsedMb.last} MB; array buffers ${r.memory.arrayBuffersMb.min}/${r.memory.arrayBuffersMb.max}/${r.memory.arrayBuffersMb.last} MB`,
    `retries    ${r.retriedBatches} retried batches, ${r.onFailure} records to the on-failure log`,
  ];
}

export function register(program: Command): void {
  program
    .command('load')
    .description('sustained, self-stopping load on the local runtime (loopback only): loss, throughput, latency, memory')
    .option('--readings-per-sec <r>', `target readings per second (max ${MAX_READINGS_PER_SEC})`, bounded(MAX_READINGS_PER_SEC, false), 2_000)
    .option('--duration <s>', `publishing time in seconds (max ${MAX_DURATION_S})`, bounded(MAX_DURATION_S, false), 600)
    .option('--assets <n>', `simulated assets (max ${MAX_ASSETS})`, bounded(MAX_ASSETS, true), 50)
    .option('--json', 'print the report as JSON (with the memory series)')
    .action(async (o: { readingsPerSec: number; duration: number; assets: number; json?: boolean }) => {
      const report = await runLoad({
        readingsPerSec: o.readingsPerSec,
        durationSec: o.duration,
        assets: o.assets,
        ...(o.json
          ? {}
          : {
              onProgress: (p) =>
                out(`t=${p.t.toFixed(0)}s  published ${p.publishedReadings} readings  rss ${p.rssMb} MB  heap ${p.heapUsedMb} MB`),
            }),
      });
      if (o.json) out(JSON.stringify(report, null, 2));
      else for (const line of formatLoadReport(report)) out(line);
      if (report.lost > 0) process.exitCode = 1;
    });
}
