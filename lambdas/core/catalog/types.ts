/**
 * Asset model catalog: reference metadata for each kind of machine (the seed of an "aircraft model
 * reference"). Cleaning checks readings against it, the feature engine enriches from it, and twins
 * carry health per component it names.
 */

/** How an asset model measures time for windows and operating age. */
export type ClockKind =
  /** Windows and ages in milliseconds of wall-clock time (`ts`). */
  | 'time'
  /**
   * Windows and ages in operating cycles: each sample is one cycle and its `seq` is the cycle number
   * (C-MAPSS engines report once per flight).
   */
  | 'cycle';

export interface SensorSpec {
  /** Engineering unit of the value devices send. */
  readonly unit: string;
  readonly description: string;
  /** Inclusive physical validity range: values outside are sensor faults, not process states. */
  readonly min: number;
  readonly max: number;
  /** Components this sensor observes: anomaly contributions roll up to their health. */
  readonly components: readonly string[];
  /**
   * Whether rolling-window features are computed for this sensor.
   * Sensors that are constant by design (set-points, demanded speeds) are validated but not featurised.
   * @default true
   */
  readonly featurize?: boolean;
  /**
   * Number of consecutive identical values after which the sensor is considered flatlined ("ghost").
   * `null` for sensors that are legitimately constant.
   * @default 30
   */
  readonly flatlineAfter?: number | null;
}

export interface ComponentSpec {
  readonly description: string;
}

/** A device event code the model's firmware is known to emit (`pdm.event.v1`). */
export interface EventCodeSpec {
  readonly description: string;
  /**
   * Component the code points at, when it points at one: the dashboard shows it, and an event that
   * names no component of its own is attributed to it.
   */
  readonly component?: string;
}

export interface WindowSpec {
  /** Short, medium and long rolling windows in clock units (for `time`: 1 h, 24 h, 7 d). */
  readonly short: number;
  readonly medium: number;
  readonly long: number;
}

export interface AssetModel {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly clock: ClockKind;
  readonly windows: WindowSpec;
  readonly sensors: Readonly<Record<string, SensorSpec>>;
  readonly components: Readonly<Record<string, ComponentSpec>>;
  /**
   * Known device event codes, in feature order. Each gets a count per window (`events_<code>_<window>`);
   * codes not listed are kept and counted as `events_other_<window>`. Names are identifiers, as sensor
   * names are, because they become feature names.
   * @default {} (only the other and total counts)
   */
  readonly events?: Readonly<Record<string, EventCodeSpec>>;
  /** Static attributes shared by every asset of the model (assets may add their own). */
  readonly attributes: Readonly<Record<string, string | number>>;
  /** Downtime cost used by the alert policy, in USD per hour, unless the stage config overrides it. */
  readonly downtimeCostPerHour: number;
  /**
   * Hours an unplanned failure stops the asset, and hours a planned intervention does. The alert
   * policy's saving estimate and the training's choice of alert thresholds both read them.
   * @default unplanned 24, planned 4 ({@link downtimeHoursOf})
   */
  readonly downtimeHours?: { readonly unplanned: number; readonly planned: number };
  /**
   * Evidence needed before an asset, or a component after its replacement, may reach WARNING or
   * CRITICAL: at least `samples` samples spanning at least `span` clock units. Until then risk is held
   * below WARNING (WATCH at most): a handful of samples from a new pump say nothing about its wear, and
   * rolling features over a mostly empty window are not the ones the models were trained on.
   * @default the short window's span, and as many samples as that window's length in hours or cycles
   * ({@link warmupOf})
   */
  readonly warmup?: { readonly samples: number; readonly span: number };
}

/** One registered asset: which model it is and where it stands. */
export interface AssetInfo {
  readonly assetId: string;
  readonly siteId: string;
  readonly modelId: string;
  readonly attributes?: Readonly<Record<string, string | number>>;
}

/** Resolves an asset id to its registration, `undefined` when unknown. Adapters back it with a table or file. */
export type AssetLookup = (assetId: string) => AssetInfo | undefined;

/** The asset model's downtime hours, with the defaults the alert policy has always used. */
export function downtimeHoursOf(model: Pick<AssetModel, 'downtimeHours'>): { unplanned: number; planned: number } {
  return { unplanned: model.downtimeHours?.unplanned ?? 24, planned: model.downtimeHours?.planned ?? 4 };
}

/** The asset model's warm-up, defaulting to its short window. */
export function warmupOf(model: Pick<AssetModel, 'warmup' | 'windows' | 'clock'>): { samples: number; span: number } {
  if (model.warmup) return { samples: model.warmup.samples, span: model.warmup.span };
  const span = model.windows.short;
  return { samples: Math.max(1, Math.round(model.clock === 'time' ? span / 3_600_000 : span)), span };
}
