/**
 * Local emulation of the CloudWatch alarm on `FeatureDriftPsi` (docs/drift.md), judged as that alarm
 * judges it (`DRIFT_ALARM`): one datapoint per hour of the window's end (event time), the Maximum of the
 * hour's reports; the alarm goes OK → ALARM when the last `datapoints` hours with a datapoint all exceed the
 * threshold, and back to OK on an hour at or below it (a null PSI, below the minimum rows or hours, is no
 * datapoint). On OK → ALARM a `pdm.ops` / `ModelDriftDetected`
 * event is put on the local EventBridge bus. Each event the bus accepted is kept, printed and appended to
 * `drift-alarms.jsonl` in the data dir.
 */
import { appendFileSync } from 'node:fs';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { DriftMonitor, DriftRows, DriftWindowReport } from '../../lambdas/adapters/drift.ts';
import { DEFAULT_PSI_THRESHOLD, DRIFT_ALARM, DRIFT_EVENT, type ModelDriftDetectedDetail } from '../../lambdas/core/drift/index.ts';

export const DRIFT_ALARMS_FILE = 'drift-alarms.jsonl';

export interface LocalDriftAlarmOptions {
  readonly events: EventBridgeClient;
  readonly eventBus: string;
  /** @default DEFAULT_PSI_THRESHOLD (0.2) */
  readonly threshold?: number;
  /** Consecutive breaching hours to alarm. @default DRIFT_ALARM.datapoints (3) */
  readonly datapoints?: number;
  /** JSONL file of the events the bus accepted. @default none */
  readonly jsonlPath?: string;
  readonly print?: (line: string) => void;
}

export class LocalDriftAlarm {
  private readonly inAlarm = new Map<string, boolean>();
  /** Per asset model, the hourly Maximum datapoints of the last `datapoints` hours. */
  private readonly hours = new Map<string, Map<number, number>>();
  readonly datapoints: number;
  /** Events the bus accepted, in order. */
  readonly fired: ModelDriftDetectedDetail[] = [];
  /** The newest report per asset model. */
  readonly latest = new Map<string, DriftWindowReport>();
  /** The highest PSI per asset model this session, with its feature and window end: what the run came closest to. */
  readonly peak = new Map<string, { readonly psi: number; readonly feature: string; readonly toHour: number }>();
  readonly threshold: number;

  constructor(private readonly opts: LocalDriftAlarmOptions) {
    this.threshold = opts.threshold ?? DEFAULT_PSI_THRESHOLD;
    this.datapoints = opts.datapoints ?? DRIFT_ALARM.datapoints;
    if (!Number.isInteger(this.datapoints) || this.datapoints < 1) throw new RangeError(`drift alarm datapoints must be a positive integer, got ${this.datapoints}`);
  }

  /**
   * Records the report's PSI as its hour's datapoint (the hour's Maximum) and says whether the last
   * `datapoints` hours that have one all breach. Hours without a report in between are skipped, not
   * counted as missing: a fast simulation's batch may carry several hours at once, and the runtime
   * reports on every batch, so a gap here is never a silent fleet.
   */
  private breaching(r: DriftWindowReport & { psi: number }): boolean {
    let max = this.hours.get(r.assetModel);
    if (!max) this.hours.set(r.assetModel, (max = new Map()));
    const hour = r.window.toHour;
    max.set(hour, Math.max(max.get(hour) ?? Number.NEGATIVE_INFINITY, r.psi));
    const recent = [...max.keys()].sort((a, b) => a - b).slice(-this.datapoints);
    for (const k of max.keys()) if (!recent.includes(k)) max.delete(k);
    return recent.length === this.datapoints && recent.every((k) => max.get(k)! > this.threshold);
  }

  /** Wraps a monitor so that every report it returns is judged here. */
  watch(monitor: Pick<DriftMonitor, 'record'>): Pick<DriftMonitor, 'record'> {
    return {
      record: async (groups: readonly DriftRows[]) => {
        const reports = await monitor.record(groups);
        await this.observe(reports);
        return reports;
      },
    };
  }

  async observe(reports: readonly DriftWindowReport[]): Promise<void> {
    for (const r of reports) {
      this.latest.set(r.assetModel, r);
      if (r.psi === null || r.feature === null) continue;
      if (r.psi > (this.peak.get(r.assetModel)?.psi ?? Number.NEGATIVE_INFINITY)) {
        this.peak.set(r.assetModel, { psi: r.psi, feature: r.feature, toHour: r.window.toHour });
      }
      const breaching = this.breaching({ ...r, psi: r.psi });
      const was = this.inAlarm.get(r.assetModel) ?? false;
      this.inAlarm.set(r.assetModel, breaching);
      if (!breaching || was) continue;
      const detail: ModelDriftDetectedDetail = {
        assetModel: r.assetModel,
        psi: r.psi,
        feature: r.feature,
        threshold: this.threshold,
        rows: r.rows,
        window: r.window,
        features: r.features,
      };
      const res = await this.opts.events.send(
        new PutEventsCommand({
          Entries: [{ Source: DRIFT_EVENT.source, DetailType: DRIFT_EVENT.detailType, Detail: JSON.stringify(detail), EventBusName: this.opts.eventBus }],
        }),
      );
      if ((res.FailedEntryCount ?? 0) > 0) {
        // Not delivered: stay out of alarm so the next report tries again.
        this.inAlarm.set(r.assetModel, false);
        continue;
      }
      this.fired.push(detail);
      if (this.opts.jsonlPath) appendFileSync(this.opts.jsonlPath, `${JSON.stringify({ source: DRIFT_EVENT.source, 'detail-type': DRIFT_EVENT.detailType, detail })}\n`);
      this.opts.print?.(`[ops ${DRIFT_EVENT.detailType}] ${r.assetModel}: PSI ${r.psi.toFixed(3)} > ${this.threshold} for ${this.datapoints} h on ${r.feature} (${r.rows} rows, ${r.window.hours} h window)`);
    }
  }
}
