/**
 * Drift counters in DynamoDB (docs/drift.md): one item per (asset model + reference id, hour), keys
 * `pk` (S) and `hour` (N), a number attribute per non-empty (top feature k, bin b) named `c<k>_<b>`, the
 * row count `n`, and `expiresAt` for TTL.
 *
 * `ADD` on a number attribute is atomic and creates the item and the attribute when missing
 * (docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html#Expressions.UpdateExpressions.ADD),
 * so concurrent containers adding to the same bucket never lose a count, with one UpdateItem each.
 * dynalite implements `ADD` the same way (it has no TTL: local buckets stay, and `read` only asks for
 * the window's hours anyway).
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DRIFT_TABLE_KEYS } from '../../core/drift/index.ts';
import type { DriftCounts } from '../../core/drift/psi.ts';
import type { DriftCounterStore } from '../ports.ts';

const attr = (k: number, b: number) => `c${k}_${b}`;

/**
 * The counter table as a stand-in needs it created (the CDK stack declares the same keys in AWS): one
 * definition for the local runtime and the tests.
 */
export function driftTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    KeySchema: [
      { AttributeName: DRIFT_TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: DRIFT_TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: DRIFT_TABLE_KEYS.partitionKey, AttributeType: 'S' },
      { AttributeName: DRIFT_TABLE_KEYS.sortKey, AttributeType: 'N' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

export class DynamoDriftCounterStore implements DriftCounterStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async add(key: string, hour: number, counts: DriftCounts, expiresAt: number): Promise<void> {
    if (counts.rows === 0) return;
    const names: Record<string, string> = { '#n': 'n', '#e': DRIFT_TABLE_KEYS.ttl };
    const values: Record<string, number> = { ':n': counts.rows, ':e': expiresAt };
    const adds = ['#n :n'];
    counts.bins.forEach((bins, k) =>
      bins.forEach((c, b) => {
        if (c === 0) return;
        const name = attr(k, b);
        names[`#${name}`] = name;
        values[`:${name}`] = c;
        adds.push(`#${name} :${name}`);
      }),
    );
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { [DRIFT_TABLE_KEYS.partitionKey]: key, [DRIFT_TABLE_KEYS.sortKey]: hour },
        UpdateExpression: `SET #e = :e ADD ${adds.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async read(key: string, fromHour: number, toHour: number, empty: DriftCounts): Promise<DriftCounts> {
    const out: DriftCounts = { rows: 0, bins: empty.bins.map((b) => b.map(() => 0)), hours: 0 };
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          // HOUR is a DynamoDB reserved word: the sort key goes through a name placeholder.
          KeyConditionExpression: '#pk = :pk AND #h BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#pk': DRIFT_TABLE_KEYS.partitionKey, '#h': DRIFT_TABLE_KEYS.sortKey },
          ExpressionAttributeValues: { ':pk': key, ':from': fromHour, ':to': toHour },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        out.rows += Number(item.n ?? 0);
        if (Number(item.n ?? 0) > 0) out.hours! += 1;
        out.bins.forEach((bins, k) => {
          for (let b = 0; b < bins.length; b++) bins[b]! += Number(item[attr(k, b)] ?? 0);
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
