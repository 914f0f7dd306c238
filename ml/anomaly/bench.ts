/** Hot-path throughput of scoreAnomaly per shipped baseline: `npx tsx ml/anomaly/bench.ts`. */
import { createAnomalyState, DEFAULT_BASELINES, scoreAnomaly } from '../../lambdas/core/anomaly/index.ts';

const N = 300_000;
for (const b of Object.values(DEFAULT_BASELINES)) {
  const rows = Array.from({ length: 1000 }, (_, i) =>
    Object.fromEntries(
      b.sensors.map((s, j) => [s, b.params.center[j]! + b.params.scale[j]! * Math.sin(i * 7 + j)]),
    ),
  );
  const missing = rows.map((r) => Object.fromEntries(Object.entries(r).slice(1)));
  for (const [label, set] of [
    ['all sensors', rows],
    ['first sensor missing', missing],
  ] as const) {
    const state = createAnomalyState(b);
    let sink = 0;
    for (let k = 0; k < 50_000; k++) sink += scoreAnomaly(b, state, set[k % 1000]!).score;
    const t0 = performance.now();
    for (let k = 0; k < N; k++) sink += scoreAnomaly(b, state, set[k % 1000]!).score;
    const perSecond = (N / (performance.now() - t0)) * 1000;
    console.log(
      `${b.modelId} (${b.sensors.length} sensors, ${label}): ${Math.round(perSecond)} samples/s${sink < 0 ? '!' : ''}`,
    );
  }
}
