/**
 * Machine-readable quarantine reasons. Stable strings: they are S3 prefixes, metric dimensions and
 * keys of `byReason` in summaries. Adding one is a minor change; renaming one is breaking.
 */
export const REASONS = {
  // Message level: nothing in the message can be trusted or attributed.
  payload_too_large: 'message',
  invalid_encoding: 'message',
  invalid_json: 'message',
  unsupported_schema: 'message',
  invalid_envelope: 'message',
  invalid_topic: 'message',
  topic_asset_mismatch: 'message',
  unknown_asset: 'message',
  unknown_asset_model: 'message',
  empty_batch: 'message',
  // Sample level: this sample is dropped from features, the rest of the message goes on.
  invalid_sample: 'sample',
  invalid_timestamp: 'sample',
  future_timestamp: 'sample',
  stale_timestamp: 'sample',
  duplicate_seq: 'sample',
  late_sample: 'sample',
  seq_jump: 'sample',
  unknown_component: 'sample',
  no_valid_readings: 'sample',
  // Reading level: one sensor value of a sample; the sample's other readings stay clean.
  unknown_sensor: 'reading',
  non_numeric: 'reading',
  non_finite: 'reading',
  out_of_range: 'reading',
  flatline: 'reading',
  // Event level (`pdm.event.v1`): one device event of a message, the message's other events go on.
  invalid_event: 'event',
} as const;

export type ReasonCode = keyof typeof REASONS;
/**
 * The sample-level reasons that describe an item of a message (`invalid_timestamp`, `future_timestamp`,
 * `stale_timestamp`, `duplicate_seq`, `late_sample`, `unknown_component`) also apply to a device event;
 * such records carry level `event`, so a record's level always says what was dropped.
 */
export type QuarantineLevel = (typeof REASONS)[ReasonCode];
export const REASON_CODES = Object.keys(REASONS) as ReasonCode[];

/** One quarantined unit (message, sample or reading), with the original data it came from. */
export interface QuarantineRecord {
  readonly reason: ReasonCode;
  readonly level: QuarantineLevel;
  /** Human-readable explanation, e.g. `vibration=812 outside [0, 50] mm/s`. */
  readonly detail: string;
  /** Identifies the message the record came from (Kinesis sequence number, MQTT packet id, line number…). */
  readonly messageId: string;
  readonly topic: string;
  readonly receivedAt: number;
  readonly assetId?: string;
  readonly siteId?: string;
  readonly seq?: number;
  readonly sampleIndex?: number;
  readonly sensor?: string;
  /**
   * The original data: the message text exactly as received for message-level reasons; the sample as
   * sent (re-serialised JSON) for sample- and reading-level reasons.
   */
  readonly payload: string;
}
