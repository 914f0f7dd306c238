/** Figures of a faulty run against a clean run of the same input. */
import type { TwinHealthChangedDetail } from '../../../lambdas/core/alerts/policy.ts';
import { logicalState, type Twin } from '../../../lambdas/core/twin/twin.ts';

export interface Figures {
  /** Clean samples of the clean run that reached no twin in the faulty run. */
  readonly lostToTwins: number;
  /** Clean samples of the clean run absent from the faulty run's telemetry store. */
  readonly lostToTelemetry: number;
  /** Twins whose logical state (all but `version`) differs from the clean run's. */
  readonly twinsDiffering: number;
  /**
   * Same, ignoring the scoring provenance `scoredBy` (endpoint vs fallback). Everything else still
   * counts: probabilities, RUL and TreeSHAP contributors, which the fallback computes from the same
   * model file the endpoint serves.
   */
  readonly twinsDifferingIgnoringProvenance: number;
  /** Deliveries of an alertId already delivered before. */
  readonly alertsDuplicated: number;
  /** Whether the distinct alert ids equal the clean run's. */
  readonly alertSetEqual: boolean;
  readonly alertsDistinct: number;
}

/** JSON with object keys sorted, so two equal states serialise equally whatever their key order. */
export function canonical(value: unknown, drop: ReadonlySet<string> = new Set()): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (drop.has(key)) return undefined;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

export function compareRuns(
  clean: { twins: ReadonlyMap<string, Twin>; telemetry: ReadonlySet<string>; deliveries: readonly TwinHealthChangedDetail[] },
  faulty: { twins: ReadonlyMap<string, Twin>; telemetry: ReadonlySet<string>; deliveries: readonly TwinHealthChangedDetail[] },
  /** Twin keys (at any depth) compared elsewhere, e.g. the screening `tally` a real device resend changes. */
  ignore: readonly string[] = [],
): Figures {
  let lostToTwins = 0;
  let lostToTelemetry = 0;
  for (const key of clean.telemetry) {
    const [assetId, seqText] = key.split(':') as [string, string];
    const twin = faulty.twins.get(assetId);
    if (!twin || twin.lastSeq < Number(seqText)) lostToTwins += 1;
    if (!faulty.telemetry.has(key)) lostToTelemetry += 1;
  }
  // A twin with fewer applied samples than the clean one skipped some, even if its lastSeq caught up.
  for (const [assetId, c] of clean.twins) lostToTwins += Math.max(0, c.samples - (faulty.twins.get(assetId)?.samples ?? 0));

  let twinsDiffering = 0;
  let twinsDifferingIgnoringProvenance = 0;
  const ids = new Set([...clean.twins.keys(), ...faulty.twins.keys()]);
  // `through` is the raw stream position the twin has applied (a Kinesis sequence number): two runs of
  // the same input get different sequence numbers, so it is bookkeeping, not state.
  const positions = new Set(['through', ...ignore]);
  const provenance = new Set(['scoredBy', 'through', ...ignore]);
  for (const id of ids) {
    const a = clean.twins.get(id);
    const b = faulty.twins.get(id);
    const state = (t: Twin | undefined, drop?: ReadonlySet<string>) => (t ? canonical(logicalState(t), drop) : 'absent');
    if (state(a, positions) !== state(b, positions)) twinsDiffering += 1;
    if (state(a, provenance) !== state(b, provenance)) twinsDifferingIgnoringProvenance += 1;
  }

  const seen = new Set<string>();
  let alertsDuplicated = 0;
  for (const d of faulty.deliveries) {
    if (seen.has(d.alertId)) alertsDuplicated += 1;
    seen.add(d.alertId);
  }
  const cleanIds = new Set(clean.deliveries.map((d) => d.alertId));
  const alertSetEqual = cleanIds.size === seen.size && [...cleanIds].every((id) => seen.has(id));
  return {
    lostToTwins,
    lostToTelemetry,
    twinsDiffering,
    twinsDifferingIgnoringProvenance,
    alertsDuplicated,
    alertSetEqual,
    alertsDistinct: seen.size,
  };
}
