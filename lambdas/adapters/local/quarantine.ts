/**
 * Local quarantine sink: what S3 keeps in AWS, as JSONL files under a directory (one per reason, the
 * same grouping as the S3 keys) or only counted. It also counts records by reason and level, which the
 * local runtime's summary reads: the handlers' own accounting, not a guess.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { QuarantineRecord, ReasonCode } from '../../core/cleaning/reasons.ts';
import type { QuarantineObject, QuarantineReport, QuarantineSink } from '../ports.ts';

export interface QuarantineTally {
  readonly byReason: Record<string, number>;
  readonly byLevel: Record<string, number>;
}

export class LocalQuarantineSink implements QuarantineSink {
  readonly tally: QuarantineTally = { byReason: {}, byLevel: {} };

  /** @param dir where `<reason>.jsonl` files are appended; undefined keeps nothing but the counts. */
  constructor(private readonly dir?: string) {
    if (dir) mkdirSync(dir, { recursive: true });
  }

  async put(records: readonly QuarantineRecord[]): Promise<QuarantineReport> {
    const byReason = new Map<ReasonCode, QuarantineRecord[]>();
    for (const r of records) {
      const list = byReason.get(r.reason);
      if (list) list.push(r);
      else byReason.set(r.reason, [r]);
      this.tally.byReason[r.reason] = (this.tally.byReason[r.reason] ?? 0) + 1;
      this.tally.byLevel[r.level] = (this.tally.byLevel[r.level] ?? 0) + 1;
    }
    const objects: QuarantineObject[] = [];
    for (const [reason, list] of byReason) {
      const key = this.dir ? join(this.dir, `${reason}.jsonl`) : `memory/${reason}`;
      if (this.dir) appendFileSync(key, list.map((r) => JSON.stringify(r)).join('\n') + '\n');
      objects.push({ reason, key, count: list.length });
    }
    return { objects, failed: [] };
  }
}
