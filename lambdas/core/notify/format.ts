/**
 * Human-readable alert text for people (email and SMS subscribers), from the TwinHealthChanged event.
 * Machines (HTTPS, SQS, Lambda subscribers) keep the JSON event. Pure: no I/O.
 *
 * Fields the contract may add later (a driver, a RUL interval) are read when present, so the text
 * improves without a change here; absent fields are simply left out, never printed as "undefined".
 */
import type { TwinHealthChangedDetail } from '../alerts/policy.ts';

export class AlertEventError extends Error {
  override readonly name: string = 'AlertEventError';
}

/** The EventBridge envelope around the detail. */
export interface AlertEvent {
  readonly source?: string;
  readonly 'detail-type'?: string;
  readonly time?: string;
  readonly detail: TwinHealthChangedDetail;
}

export interface FormattedAlert {
  /** Email subject (SNS allows ≤ 100 characters, ASCII-safe). */
  readonly subject: string;
  readonly email: string;
  /** One SMS segment where possible (≤ 160 characters). */
  readonly sms: string;
}

export interface FormatOptions {
  /** Dashboard base URL; the asset's page is linked when set. */
  readonly dashboardUrl?: string;
}

const ACTIONS: Readonly<Record<string, string>> = {
  CRITICAL: 'Plan an inspection or stop at the next safe opportunity; failure is likely soon.',
  WARNING: 'Schedule maintenance within the lead time; check the top sensors first.',
  WATCH: 'No action yet; the asset is being watched more closely.',
  NORMAL: 'No action: the asset is back to normal.',
  MAINTENANCE: 'Maintenance recorded; alerts resume after it ends.',
};

const pct = (x: number) => `${Math.round(x * 100)}%`;
const num = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1));

/** A driver name, from whichever of the known shapes the event carries. */
function driverOf(detail: Record<string, unknown>): string | undefined {
  const d = detail['driver'] ?? (Array.isArray(detail['drivers']) ? (detail['drivers'] as unknown[])[0] : undefined);
  if (typeof d === 'string') return d;
  if (d && typeof d === 'object') {
    const o = d as Record<string, unknown>;
    const name = o['label'] ?? o['name'] ?? o['kind'] ?? o['feature'];
    return typeof name === 'string' ? name : undefined;
  }
  return undefined;
}

/** A RUL interval `[low, high]`, from `scores.rulInterval` as a pair or `{ lower, upper }` / `{ low, high }`. */
function rulIntervalOf(scores: Record<string, unknown>): [number, number] | undefined {
  const i = scores['rulInterval'];
  const pair = Array.isArray(i) ? i : i && typeof i === 'object' ? [(i as Record<string, unknown>)['lower'] ?? (i as Record<string, unknown>)['low'], (i as Record<string, unknown>)['upper'] ?? (i as Record<string, unknown>)['high']] : undefined;
  if (!pair || typeof pair[0] !== 'number' || typeof pair[1] !== 'number' || !Number.isFinite(pair[0]) || !Number.isFinite(pair[1])) return undefined;
  return [pair[0], pair[1]];
}

/** @throws AlertEventError when the event has no usable detail. */
export function formatAlert(event: AlertEvent, opts: FormatOptions = {}): FormattedAlert {
  const d = event?.detail;
  if (!d || typeof d.assetId !== 'string' || typeof d.to !== 'string' || typeof d.from !== 'string' || !d.scores) {
    throw new AlertEventError('not a TwinHealthChanged event: detail.assetId, from, to and scores are required');
  }
  const what = d.scope === 'component' && d.component ? `${d.assetId} ${d.component}` : d.assetId;
  const driver = driverOf(d as unknown as Record<string, unknown>);
  const interval = rulIntervalOf(d.scores as unknown as Record<string, unknown>);
  const rul =
    d.scores.rul === null || d.scores.rul === undefined
      ? undefined
      : `${num(d.scores.rul)} ${d.scores.rulUnit}${interval ? ` (90% interval ${num(interval[0])}–${num(interval[1])})` : ''}`;
  const sensors = (d.topContributors ?? []).slice(0, 3).map((c) => `${c.sensor} ${pct(c.share)}`);
  const link = opts.dashboardUrl ? `${opts.dashboardUrl.replace(/\/$/, '')}/#/asset/${encodeURIComponent(d.assetId)}` : undefined;
  const action = ACTIONS[d.to] ?? 'Check the asset.';

  const subject = `[${d.severity.toUpperCase()}] ${what}: ${d.from} -> ${d.to}`.replace(/[^\x20-\x7E]/g, '?').slice(0, 100);
  const email = [
    `${what} (${d.assetModel}, site ${d.siteId}) changed from ${d.from} to ${d.to} at ${d.at}.`,
    '',
    `Risk ${pct(d.scores.risk)}${d.scores.failureProbability === null ? '' : `, failure probability ${pct(d.scores.failureProbability)}`}, anomaly ${num(d.scores.anomaly)}.`,
    ...(rul ? [`Remaining useful life: ${rul}.`] : []),
    ...(driver ? [`Driver: ${driver}.`] : []),
    ...(sensors.length > 0 ? [`Top sensors: ${sensors.join(', ')}.`] : []),
    '',
    `What to do: ${action}`,
    ...(link ? ['', `Dashboard: ${link}`] : []),
    '',
    `Alert ${d.alertId}`,
  ].join('\n');
  const smsParts = [`PdM ${d.severity.toUpperCase()}: ${what} ${d.from}->${d.to}`, `risk ${pct(d.scores.risk)}`, ...(rul ? [`RUL ${rul.replace(/ \(90% interval (.*)\)/, ' [$1]')}`] : []), ...(driver ? [driver] : []), ...(sensors[0] ? [`top ${sensors[0]}`] : [])];
  let sms = smsParts.join(', ');
  if (link && sms.length + link.length + 1 <= 160) sms = `${sms} ${link}`;
  return { subject, email, sms: sms.length > 160 ? `${sms.slice(0, 157)}...` : sms };
}

/**
 * The SNS message for a MessageStructure "json" publish: people get text, every other protocol the
 * EventBridge event unchanged (the `default` entry is what SNS sends to protocols without their own).
 */
export function snsMessage(event: AlertEvent, opts: FormatOptions = {}): { readonly subject: string; readonly message: string } {
  const f = formatAlert(event, opts);
  return { subject: f.subject, message: JSON.stringify({ default: JSON.stringify(event), email: f.email, sms: f.sms }) };
}
