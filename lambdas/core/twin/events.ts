/**
 * Device events on the twin: folding a screened event into the feature state's event counts, and the
 * short list of recent events the dashboard shows. Kept apart from `twin.ts` so the twin's fold stays
 * one readable loop.
 */
import type { AssetModel } from '../catalog/types.ts';
import type { EventSeverity } from '../contract/telemetry.ts';
import { updateFeatureEvents } from '../features/index.ts';
import type { CleanEvent } from '../types.ts';
import type { Twin } from './twin.ts';

/** Recent events kept on the twin for the dashboard; the history store keeps them all. */
export const TWIN_EVENTS_LIMIT = 20;

/** One recent device event as the twin shows it. */
export interface TwinEvent {
  ts: number;
  seq: number;
  code: string;
  severity: EventSeverity;
  component?: string;
  message?: string;
}

/**
 * The clock time an event counts at: its `ts` on time clocks; on cycle clocks, where an event carries
 * no cycle number, the current cycle (as for maintenance).
 */
export function eventClock(model: AssetModel, twin: Pick<Twin, 'lastT'>, event: Pick<CleanEvent, 'ts'>): number {
  return model.clock === 'cycle' ? (twin.lastT ?? 0) : event.ts;
}

/** Counts a screened event into the twin's feature state and keeps it among the recent events. */
export function applyEvent(twin: Twin, model: AssetModel, event: CleanEvent): void {
  updateFeatureEvents(twin.features, model, eventClock(model, twin, event), event.code);
  const entry: TwinEvent = { ts: event.ts, seq: event.seq, code: event.code, severity: event.severity };
  if (event.component !== undefined) entry.component = event.component;
  if (event.message !== undefined) entry.message = event.message;
  const list = [...(twin.events ?? []), entry];
  // Newest by device time, seq breaking ties: the order does not depend on how batches were split.
  list.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
  twin.events = list.slice(-TWIN_EVENTS_LIMIT);
}
