/**
 * Throughput of the cleaning stage (a measurement script, not a test):
 *   npx tsx test/core/cleaning/throughput.ts
 */
import { CENTRIFUGAL_PUMP } from '../../../lambdas/core/catalog/index.ts';
import { cleanMessage, type RawMessage, screenSamples } from '../../../lambdas/core/cleaning/index.ts';
import type { CleanSample } from '../../../lambdas/core/types.ts';
import { batch, ctx, message, ONE_MINUTE_AGO, pumpSample, single } from './fixtures.ts';

function measure(name: string, seconds: number, work: (i: number) => number): void {
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += work(i); // warm-up: let the JIT settle
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    for (let k = 0; k < 1000; k++) sink += work(n++);
    elapsed = performance.now() - start;
  }
  const perSecond = (n / elapsed) * 1000;
  console.log(
    `${name.padEnd(44)} ${Math.round(perSecond).toLocaleString('en-US').padStart(10)} /s  ${(1e6 / perSecond).toFixed(2)} µs each  (${sink > 0 ? 'ok' : '?'})`,
  );
}

const singleMsg = message(single({ ts: new Date(ONE_MINUTE_AGO).toISOString() }));
const singleEpoch = message(single());
const batchMsg = message(batch(Array.from({ length: 20 }, (_, i) => pumpSample(i + 1))));
const withFault = message(
  batch(
    Array.from({ length: 20 }, (_, i) =>
      pumpSample(i + 1, i % 5 === 0 ? { readings: { flow: -5, rpm: 10 } } : {}),
    ),
  ),
);
const bytes: RawMessage = { ...batchMsg, payload: new TextEncoder().encode(batchMsg.payload as string) };

measure('single sample, 6 sensors, ISO ts', 2, () => cleanMessage(singleMsg, ctx).samples.length);
measure('single sample, 6 sensors, epoch ts', 2, () => cleanMessage(singleEpoch, ctx).samples.length);
measure('batch of 20 samples x 6 sensors (string)', 2, () => cleanMessage(batchMsg, ctx).samples.length);
measure('batch of 20 samples x 6 sensors (bytes)', 2, () => cleanMessage(bytes, ctx).samples.length);
measure('batch of 20, 4 samples with a bad reading', 2, () => cleanMessage(withFault, ctx).quarantine.length);

const parseOnly = batchMsg.payload as string;
measure(
  'JSON.parse alone of the 20-sample batch',
  2,
  () => (JSON.parse(parseOnly) as { samples: unknown[] }).samples.length,
);

const cleaned: CleanSample[] = cleanMessage(batchMsg, ctx).samples;
let state = screenSamples(undefined, [], CENTRIFUGAL_PUMP).state;
measure('screenSamples, 20 in-order samples', 2, (i) => {
  // Building the input is part of the figure: it allocates like the twin's decoding would.
  const shifted = cleaned.map((s, k) => {
    const r = s.readings;
    const d = ((i * 20 + k) % 97) / 10;
    return {
      ...s,
      seq: s.seq + i * 20,
      readings: {
        temperature: r.temperature! + d,
        vibration: r.vibration! + d,
        pressure: r.pressure! + d,
        flow: r.flow! + d,
        rpm: r.rpm! + d,
        current: r.current! + d,
      },
    };
  });
  const result = screenSamples(state, shifted, CENTRIFUGAL_PUMP);
  state = result.state;
  return result.accepted.length;
});
