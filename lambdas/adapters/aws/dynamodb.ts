/** DynamoDB adapters: the twin store (optimistic locking on `version`) and the asset registry. */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TwinHealthChangedDetail } from '../../core/alerts/policy.ts';
import type { AssetInfo } from '../../core/catalog/types.ts';
import type { Twin } from '../../core/twin/twin.ts';
import { type AssetRegistry, TwinConflictError, type TwinStore } from '../ports.ts';
import { type BackoffOptions, backoff } from '../retry.ts';

/** `encoding` of a twin item whose state is deflate-raw compressed JSON in `body`. */
export const TWIN_BODY_ENCODING = 'json+deflate';

/**
 * A twin as stored: the key, the lock counter and a readable summary as plain attributes (what an
 * operator looks at in the console or filters a scan on), and the whole twin as compressed JSON in
 * `body`. Writes are billed per KB of item, once per asset per invocation: the plain item was 7–10 KB
 * (mostly feature windows of full-precision doubles), compressed it is 2.5–3 KB, a third of the
 * write units. JSON keeps every double exact, and tiny magnitudes need no DynamoDB underflow guard.
 * The alert outbox is its own attribute (JSON text), so that it can be settled without rewriting the
 * body.
 */
export interface TwinItem {
  readonly assetId: string;
  readonly version: number;
  readonly siteId: string;
  readonly modelId: string;
  readonly healthState: string;
  readonly lastT: number | null;
  readonly lastSeq: number;
  /** Fleet-view summary (`pdm dashboard --stage` lists the fleet from these without inflating bodies). */
  readonly risk: number | null;
  readonly failureProbability: number | null;
  readonly rul: number | null;
  /** Epoch ms of the newest applied sample. */
  readonly updatedAt: number | null;
  readonly samples: number;
  /** Component → health state. */
  readonly componentStates: Readonly<Record<string, string>>;
  /** JSON array of the outbox; absent when empty. */
  readonly pendingAlerts?: string;
  readonly encoding: typeof TWIN_BODY_ENCODING;
  readonly body: Uint8Array;
}

/** A stored twin item that cannot be read back. */
export class CorruptTwinItemError extends Error {
  override readonly name: string = 'CorruptTwinItemError';
}

/** The item {@link DynamoTwinStore} writes for a twin. */
export function encodeTwinItem(twin: Twin): TwinItem {
  const { pendingAlerts, ...rest } = twin;
  const pending = pendingAlerts ?? [];
  return {
    assetId: twin.assetId,
    version: twin.version,
    siteId: twin.siteId,
    modelId: twin.modelId,
    healthState: twin.health.state,
    lastT: twin.lastT,
    lastSeq: twin.lastSeq,
    risk: finiteOrNull(twin.scores?.risk),
    failureProbability: finiteOrNull(twin.scores?.failureProbability),
    rul: finiteOrNull(twin.scores?.rul),
    updatedAt: twin.latest?.ts ?? null,
    samples: twin.samples,
    componentStates: Object.fromEntries(Object.entries(twin.components).map(([k, c]) => [k, c.health.state])),
    ...(pending.length > 0 ? { pendingAlerts: JSON.stringify(pending) } : {}),
    encoding: TWIN_BODY_ENCODING,
    // Level 6: within 2 % of the smallest output at a fifth of brotli's time (~0.05 ms a twin).
    body: deflateRawSync(JSON.stringify(rest), { level: 6 }),
  };
}

const finiteOrNull = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : x);

/**
 * The twin in a stored item. Items written before the body encoding (the twin's fields as plain
 * attributes) are read as they are, so a deployed table upgrades itself on the next write.
 * @throws CorruptTwinItemError when the body does not decode to this asset's twin.
 */
export function decodeTwinItem(item: Record<string, unknown>): Twin {
  if (item.body === undefined) return item as unknown as Twin;
  if (item.encoding !== TWIN_BODY_ENCODING || !(item.body instanceof Uint8Array)) {
    throw new CorruptTwinItemError(`twin ${String(item.assetId)}: unknown encoding ${JSON.stringify(item.encoding)}`);
  }
  let twin: Twin;
  try {
    twin = JSON.parse(inflateRawSync(item.body).toString('utf8')) as Twin;
  } catch (err) {
    throw new CorruptTwinItemError(`twin ${String(item.assetId)}: body does not decode (${(err as Error).message})`);
  }
  if (twin.assetId !== item.assetId) {
    throw new CorruptTwinItemError(`twin ${String(item.assetId)}: body belongs to ${twin.assetId}`);
  }
  // The lock counter is the item attribute (what the write condition tests), not the body's copy.
  if (typeof item.version === 'number') twin.version = item.version;
  if (item.pendingAlerts !== undefined) {
    let pending: unknown;
    try {
      pending = JSON.parse(String(item.pendingAlerts));
    } catch {
      pending = undefined;
    }
    if (!Array.isArray(pending)) throw new CorruptTwinItemError(`twin ${String(item.assetId)}: pendingAlerts is not a JSON array`);
    if (pending.length > 0) twin.pendingAlerts = pending as TwinHealthChangedDetail[];
  }
  return twin;
}

/** DynamoDB's billed size of an item: UTF-8 attribute names plus values (numbers ≈ 1 byte per 2 digits + 1). */
export function itemBytes(item: object): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) {
    if (v === undefined) continue;
    n += Buffer.byteLength(k);
    if (typeof v === 'string') n += Buffer.byteLength(v);
    else if (typeof v === 'number') n += Math.ceil(String(Math.abs(v)).replace(/[.-]|e.*$/g, '').length / 2) + 1;
    else if (v instanceof Uint8Array) n += v.byteLength;
    else if (v === null || typeof v === 'boolean') n += 1;
    else n += Buffer.byteLength(JSON.stringify(v));
  }
  return n;
}

/**
 * Twins as one item each (pk `assetId`, see {@link encodeTwinItem}). Reads are strongly consistent: a
 * re-read after a conflict must see the write that caused it.
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
    return out.Item ? decodeTwinItem(out.Item) : undefined;
  }

  async put(twin: Twin, expectedVersion: number | null): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: encodeTwinItem(twin),
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

  async settleAlerts(assetId: string, version: number, remaining: readonly TwinHealthChangedDetail[]): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { assetId },
          ...(remaining.length > 0
            ? { UpdateExpression: 'SET pendingAlerts = :p', ExpressionAttributeValues: { ':p': JSON.stringify(remaining), ':v': version } }
            : { UpdateExpression: 'REMOVE pendingAlerts', ExpressionAttributeValues: { ':v': version } }),
          ConditionExpression: 'version = :v',
        }),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return false;
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
