/** DynamoDB adapters: the twin store (optimistic locking on `version`) and the asset registry. */
import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AssetInfo } from '../../core/catalog/types.ts';
import type { Twin } from '../../core/twin/twin.ts';
import { type AssetRegistry, TwinConflictError, type TwinStore } from '../ports.ts';
import { type BackoffOptions, backoff } from '../retry.ts';

/**
 * Twins as one item each (pk `assetId`). Reads are strongly consistent: a re-read after a conflict
 * must see the write that caused it.
 */
export class DynamoTwinStore implements TwinStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(assetId: string): Promise<Twin | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { assetId }, ConsistentRead: true }),
    );
    return out.Item as Twin | undefined;
  }

  async put(twin: Twin, expectedVersion: number | null): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toDynamoNumbers(twin),
          // One expression for both cases: a twin that must not exist yet cannot match `version = -1`.
          ConditionExpression: 'attribute_not_exists(assetId) OR version = :expected',
          ExpressionAttributeValues: { ':expected': expectedVersion ?? -1 },
        }),
      );
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') {
        throw new TwinConflictError(twin.assetId, expectedVersion);
      }
      throw err;
    }
  }
}

/** The table item: {@link AssetInfo} plus whatever else the registry keeps (ignored here). */
interface AssetItem {
  assetId?: unknown;
  siteId?: unknown;
  modelId?: unknown;
  attributes?: unknown;
}

/** A BatchGet keeps at most this many keys per call (DynamoDB limit). */
const BATCH_GET_MAX = 100;

/** Assets table (pk `assetId`); malformed items are treated as unregistered. */
export class DynamoAssetRegistry implements AssetRegistry {
  private readonly retry;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    retry: BackoffOptions = {},
  ) {
    this.retry = backoff(retry);
  }

  async getMany(assetIds: readonly string[]): Promise<ReadonlyMap<string, AssetInfo>> {
    const out = new Map<string, AssetInfo>();
    const ids = [...new Set(assetIds)];
    for (let i = 0; i < ids.length; i += BATCH_GET_MAX) {
      let keys: Record<string, unknown>[] = ids.slice(i, i + BATCH_GET_MAX).map((assetId) => ({ assetId }));
      for (let attempt = 1; keys.length > 0; attempt++) {
        const res = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }),
        );
        for (const item of res.Responses?.[this.tableName] ?? []) {
          const info = toAssetInfo(item as AssetItem);
          if (info) out.set(info.assetId, info);
        }
        keys = res.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        if (keys.length === 0) break;
        if (attempt >= this.retry.attempts) {
          throw new Error(`asset registry: ${keys.length} keys still unprocessed after ${attempt} attempts`);
        }
        await this.retry.pause(attempt);
      }
    }
    return out;
  }
}

function toAssetInfo(item: AssetItem): AssetInfo | undefined {
  const { assetId, siteId, modelId, attributes } = item;
  if (typeof assetId !== 'string' || typeof siteId !== 'string' || typeof modelId !== 'string') return undefined;
  const info: { -readonly [K in keyof AssetInfo]: AssetInfo[K] } = { assetId, siteId, modelId };
  if (attributes !== null && typeof attributes === 'object') {
    const attrs: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(attributes)) if (typeof v === 'string' || typeof v === 'number') attrs[k] = v;
    info.attributes = attrs;
  }
  return info;
}

/** DocumentClient options the twin store expects: the twin is plain JSON and may carry `undefined`s. */
export const TWIN_DOCUMENT_OPTIONS = {
  marshallOptions: { removeUndefinedValues: true },
} as const;

/** The smallest magnitude a DynamoDB number holds; smaller ones fail the write with "Number underflow". */
export const DYNAMO_MIN_MAGNITUDE = 1e-130;

/**
 * Copies a plain-JSON value with every magnitude below 1e-130 made 0. A valid reading such as 1e-131
 * (or a variance that small) would otherwise make every write of the twin fail with "Number underflow",
 * and its records would end on the failure destination. (Large magnitudes cannot arise: readings are
 * bounded by the catalog's ranges.)
 */
export function toDynamoNumbers<T>(value: T): T {
  if (typeof value === 'number') {
    return (value !== 0 && Math.abs(value) < DYNAMO_MIN_MAGNITUDE ? 0 : value) as T;
  }
  if (Array.isArray(value)) return value.map((v) => toDynamoNumbers(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toDynamoNumbers(v);
    return out as T;
  }
  return value;
}
