/** Values that flow between the core stages. Plain data: they cross Kinesis and DynamoDB as JSON. */
import type { EventSeverity, MaintenanceKind } from './contract/telemetry.ts';

/** A sample that passed cleaning: only its valid readings remain. */
export interface CleanSample {
  readonly assetId: string;
  readonly siteId: string;
  readonly modelId: string;
  /** Epoch milliseconds. */
  readonly ts: number;
  readonly seq: number;
  readonly readings: Readonly<Record<string, number>>;
  readonly component?: string;
  /** When the pipeline received the message (epoch ms); latency is measured from here. */
  readonly receivedAt: number;
  /** The message the sample came in: screening quarantines point back to it, and summaries count per message. */
  readonly messageId?: string;
}

/** A maintenance event that passed validation. */
export interface MaintenanceEvent {
  readonly assetId: string;
  readonly siteId: string;
  readonly modelId: string;
  readonly ts: number;
  readonly kind: MaintenanceKind;
  /** `undefined`: the whole asset (every component). */
  readonly component?: string;
  readonly receivedAt: number;
}

/** A device event (`pdm.event.v1`) that passed validation. */
export interface CleanEvent {
  readonly assetId: string;
  readonly siteId: string;
  readonly modelId: string;
  /** Epoch milliseconds. */
  readonly ts: number;
  /** The asset's event-log sequence number (its own sequence, not the telemetry seq). */
  readonly seq: number;
  readonly code: string;
  readonly severity: EventSeverity;
  /** As sent, or the catalog's component for a known code; absent when neither names one. */
  readonly component?: string;
  readonly message?: string;
  readonly receivedAt: number;
  /** The message the event came in: screening quarantines point back to it. */
  readonly messageId?: string;
}
