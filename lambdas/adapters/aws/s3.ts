/** S3 quarantine sink: one JSONL object per reason per call. */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { QuarantineRecord, ReasonCode } from '../../core/cleaning/reasons.ts';
import type { QuarantineFailure, QuarantineObject, QuarantineReport, QuarantineSink } from '../ports.ts';
import { errorMessage } from '../retry.ts';

export interface S3QuarantineSinkOptions {
  /** Key prefix. @default 'quarantine' */
  readonly prefix?: string;
  /** Clock for the date path. @default Date.now */
  readonly now?: () => number;
}

/**
 * Writes `quarantine/<reason>/<yyyy>/<mm>/<dd>/<requestId>-<n>.jsonl`, `n` counting objects of this
 * sink instance so that several calls in one invocation never overwrite each other. The date is the
 * processing date (UTC): it is what lifecycle rules and Athena partitions expire and prune by. Objects
 * take the bucket's default encryption (the stack sets SSE), so no SSE header is sent here. The SDK
 * retries each PutObject itself; an object that still fails is reported with its messages.
 */
export class S3QuarantineSink implements QuarantineSink {
  private counter = 0;
  private readonly prefix: string;
  private readonly now: () => number;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    options: S3QuarantineSinkOptions = {},
  ) {
    this.prefix = options.prefix ?? 'quarantine';
    this.now = options.now ?? Date.now;
  }

  async put(records: readonly QuarantineRecord[], requestId: string): Promise<QuarantineReport> {
    const byReason = new Map<ReasonCode, QuarantineRecord[]>();
    for (const r of records) {
      const list = byReason.get(r.reason);
      if (list) list.push(r);
      else byReason.set(r.reason, [r]);
    }
    const day = new Date(this.now()).toISOString().slice(0, 10).split('-');
    const results = await Promise.allSettled(
      [...byReason].map(async ([reason, list]): Promise<QuarantineObject> => {
        const n = this.counter++;
        const key = `${this.prefix}/${reason}/${day[0]}/${day[1]}/${day[2]}/${requestId}-${n}.jsonl`;
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: list.map((r) => JSON.stringify(r)).join('\n') + '\n',
            ContentType: 'application/x-ndjson',
          }),
        );
        return { reason, key, count: list.length };
      }),
    );
    const objects: QuarantineObject[] = [];
    const failed: QuarantineFailure[] = [];
    const groups = [...byReason];
    results.forEach((res, i) => {
      const [reason, list] = groups[i]!;
      if (res.status === 'fulfilled') objects.push(res.value);
      else failed.push({ reason, messageIds: [...new Set(list.map((r) => r.messageId))], error: errorMessage(res.reason) });
    });
    return { objects, failed };
  }
}
