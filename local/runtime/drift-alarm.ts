/**
 * Local emulation of the CloudWatch alarm on `FeatureDriftPsi` (docs/drift.md): the features handler's
 * drift reports are watched, and when an asset model's PSI crosses the threshold (from below, or on its
 * first PSI at or above it; a null PSI below the minimum count never fires) a `pdm.ops` /
 * `ModelDriftDetected` event is put on the local EventBridge bus, as an alarm goes OK → ALARM. Each
 * event the bus accepted is kept, printed and appended to `drift-alarms.jsonl` in the data dir.
 */
import { appendFileSync } from 'node:fs';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { DriftMonitor, DriftRows, DriftWindowReport } from '../../lambdas/adapters/drift.ts';
import { DEFAULT_PSI_THRESHOLD, DRIFT_EVENT, type ModelDriftDetectedDetail } from '../../lambdas/core/drift/index.ts';

export const DRIFT_ALARMS_FILE = 'drift-alarms.jsonl';

export interface LocalDriftAlarmOptions {
  readonly events: EventBridgeClient;
  readonly eventBus: string;
  /** @default DEFAULT_PSI_THRESHOLD (0.2) */
  readonly threshold?: number;
  /** JSONL file of the events the bus accepted. @default none */
  readonly jsonlPath?: string;
  readonly print?: (line: string) => void;
}

export class LocalDriftAlarm {
  private readonly inAlarm = new Map<string, boolean>();
  /** Events the bus accepted, in order. */
  readonly fired: ModelDriftDetectedDetail[] = [];
  /** The newest report per asset model. */
  readonly latest = new Map<string, DriftWindowReport>();
  readonly threshold: number;

  constructor(private readonly opts: LocalDriftAlarmOptions) {
    this.threshold = opts.threshold ?? DEFAULT_PSI_THRESHOLD;
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
      const breaching = r.psi >= this.threshold;
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
      this.opts.print?.(`[ops ${DRIFT_EVENT.detailType}] ${r.assetModel}: PSI ${r.psi.toFixed(3)} ≥ ${this.threshold} on ${r.feature} (${r.rows} rows, ${r.window.hours} h)`);
    }
  }
}
