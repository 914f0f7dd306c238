import { expect } from 'vitest';
import type { IngestSummary } from '../../../local/cli.ts';

/** The identities every ingest summary must satisfy, whatever went in. */
export function expectAccounted(s: IngestSummary): void {
  // Every non-blank line is a file error, a publish the broker refused (the IoT policy), or a message the pipeline received.
  expect(s.fileErrors + s.refused.publishes + s.refused.connects + s.published).toBe(s.lines);
  expect(s.messages.received).toBe(s.published);
  expect(s.messages.accepted + s.messages.quarantined).toBe(s.messages.received);
  expect(s.samples.clean + s.samples.quarantined).toBe(s.samples.received);
  expect(s.readings.clean + s.readings.quarantined).toBe(s.readings.received);
  // No record was poison: nothing went to the failure destination after retries.
  expect(s.onFailure).toBe(0);
  // Nothing quarantined in silence: the records by reason cover at least one per quarantined message.
  const records = Object.values(s.byReason).reduce((a, b) => a + b, 0);
  expect(records).toBeGreaterThanOrEqual(s.messages.quarantined);
}
