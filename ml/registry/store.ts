/**
 * The local model registry: a folder (`models/` by default, docs/models.md "Model registry").
 *
 * ```
 * models/
 *   blobs/<sha256>.json|ubj          model files, content-addressed: identical files are stored once
 *   <assetModelId>/<assetModelId>@<n>.json   one immutable version record per trained asset model
 *   aliases.json                     champion (and challenger) per asset model + the history of every alias move
 * ```
 *
 * Writes are atomic (temp file + rename, or + link for records) and safe against concurrent writers: a
 * record is published with `link`, which fails when the name exists, so two racing registrations get
 * distinct ids; alias moves and bundle rebuilds hold `models/.lock`. The bundle (`layers/model`) is a pure
 * function of the champions: `materialize` writes their files from the blobs and a manifest of their entries.
 * Challengers (shadow scoring) ride along in the bundle under `challengers/` and a manifest section.
 */
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { BUNDLE_SCHEMA, type BundleManifest, manifestSchema } from '../../lambdas/core/model/bundle.ts';
import { sha256Hex } from '../bundle/hash.ts';
import { readBundle } from '../bundle/read.ts';
import { writeManifestFile } from '../bundle/write.ts';
import { canonicalJson, type EntryPredictor, evaluationsOf } from './evaluations.ts';
import { gate, type GateResult } from './gate.ts';
import {
  type AliasMove,
  type Aliases,
  ALIASES_SCHEMA,
  aliasesSchema,
  championStacks,
  challengersOf,
  type Evaluation,
  parseVersionId,
  VERSION_SCHEMA,
  versionId,
  type VersionRecord,
  versionRecordSchema,
} from './record.ts';

/** Default registry: `models/` at the repo root. */
export const DEFAULT_REGISTRY_DIR = join(import.meta.dirname, '..', '..', 'models');
export const ALIASES_FILE = 'aliases.json';
const LOCK_FILE = '.lock';
const BLOBS = 'blobs';

/** No version with this id is registered. */
export class UnknownVersionError extends Error {
  override readonly name: string = 'UnknownVersionError';
}
/** An asset model has no versions, or no champion, in this registry. */
export class UnknownAssetModelError extends Error {
  override readonly name: string = 'UnknownAssetModelError';
}
/** Two versions of different asset models were given where one asset model was expected. */
export class WrongAssetModelError extends Error {
  override readonly name: string = 'WrongAssetModelError';
}
/** A blob's bytes do not hash to its name, a record does not parse, or aliases contradict their history. */
export class RegistryIntegrityError extends Error {
  override readonly name: string = 'RegistryIntegrityError';
}
/** The alias history holds no earlier champion for the asset model. */
export class NothingToRollBackError extends Error {
  override readonly name: string = 'NothingToRollBackError';
}
/** The gate refused the challenger and no `--force --reason` overrode it. */
export class PromotionRefusedError extends Error {
  override readonly name: string = 'PromotionRefusedError';
  constructor(readonly result: GateResult) {
    super(`${result.reason}${result.pass ? '' : ' (override: --force --reason "<why>")'}`);
  }
}
/** `--force` without a reason: a forced promotion must say why. */
export class MissingReasonError extends Error {
  override readonly name: string = 'MissingReasonError';
}
/** Another process held the registry lock for longer than the wait. */
export class RegistryLockError extends Error {
  override readonly name: string = 'RegistryLockError';
}
/** The champions cannot form one bundle (different feature engines), or there are none. */
export class MaterializeError extends Error {
  override readonly name: string = 'MaterializeError';
}

/** Blocks the thread; the registry is synchronous like the bundle writer it sits next to. */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function tmpName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Writes a whole file under a temporary name, then renames it into place: readers see old or new, never half. */
function writeAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tmpName(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` holding `<dir>/.lock` (created with O_EXCL). A lock left by a dead process on this host is
 * taken over; a live holder is waited for up to `waitMs`.
 */
export function withRegistryLock<T>(dir: string, fn: () => T, waitMs = 30_000): T {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const deadline = Date.now() + waitMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 500)) {
    try {
      writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() }), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder: { pid?: number; host?: string } = {};
      try {
        holder = JSON.parse(readFileSync(path, 'utf8')) as typeof holder;
      } catch {
        // Being written right now, or gone: try again.
      }
      if (holder.host === hostname() && typeof holder.pid === 'number' && !processAlive(holder.pid)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new RegistryLockError(`${path} is held by pid ${holder.pid ?? '?'} on ${holder.host ?? '?'}; remove it if that process is gone`);
      }
      sleepMs(delay);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(path, { force: true });
  }
}

function recordPath(dir: string, id: string): string {
  const { assetModel } = parseVersionId(id);
  return join(dir, assetModel, `${id}.json`);
}

/** Every version record, sorted by asset model and number. */
export function listVersions(dir: string): VersionRecord[] {
  if (!existsSync(dir)) return [];
  const out: VersionRecord[] = [];
  for (const folder of readdirSync(dir, { withFileTypes: true })) {
    if (!folder.isDirectory() || folder.name === BLOBS || folder.name.startsWith('.')) continue;
    for (const name of readdirSync(join(dir, folder.name))) {
      const m = /^(.+@[0-9]+)\.json$/.exec(name);
      if (m && m[1]!.startsWith(`${folder.name}@`)) out.push(readVersion(dir, m[1]!));
    }
  }
  return out.sort((a, b) => {
    const x = parseVersionId(a.id);
    const y = parseVersionId(b.id);
    return x.assetModel === y.assetModel ? x.n - y.n : x.assetModel < y.assetModel ? -1 : 1;
  });
}

/** Reads and validates one record. */
export function readVersion(dir: string, id: string): VersionRecord {
  const path = recordPath(dir, id);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const { assetModel } = parseVersionId(id);
    const known = listVersions(dir)
      .filter((v) => v.assetModel === assetModel)
      .map((v) => v.id);
    throw new UnknownVersionError(
      `no version ${id} in ${dir}${known.length > 0 ? `; ${assetModel} has ${known.join(', ')}` : `; no ${assetModel} versions at all`}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new RegistryIntegrityError(`${path}: not JSON: ${(e as Error).message}`);
  }
  const parsed = versionRecordSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RegistryIntegrityError(`${path}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  if (parsed.data.id !== id) throw new RegistryIntegrityError(`${path}: holds ${parsed.data.id}`);
  return parsed.data;
}

/** The alias file; an empty one for a new registry. */
export function readAliases(dir: string): Aliases {
  const path = join(dir, ALIASES_FILE);
  if (!existsSync(path)) return { schema: ALIASES_SCHEMA, champions: {}, history: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new RegistryIntegrityError(`${path}: not JSON: ${(e as Error).message}`);
  }
  const parsed = aliasesSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RegistryIntegrityError(`${path}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  const aliases = parsed.data;
  const stacks = championStacks(aliases.history);
  const replayed = Object.fromEntries([...stacks].filter(([, s]) => s.length > 0).map(([m, s]) => [m, s.at(-1)!]));
  if (canonicalJson(replayed) !== canonicalJson(aliases.champions)) {
    throw new RegistryIntegrityError(`${path}: champions ${canonicalJson(aliases.champions)} contradict the history, which replays to ${canonicalJson(replayed)}`);
  }
  const challengers = challengersOf(aliases.history);
  if (aliases.challengers !== undefined && canonicalJson(challengers) !== canonicalJson(aliases.challengers)) {
    throw new RegistryIntegrityError(`${path}: challengers ${canonicalJson(aliases.challengers)} contradict the history, which replays to ${canonicalJson(challengers)}`);
  }
  return { ...aliases, challengers };
}

/** Reads a blob and checks that its bytes hash to its name. */
export function readBlob(dir: string, blob: string): Uint8Array {
  const bytes = new Uint8Array(readFileSync(join(dir, blob)));
  const expected = /([0-9a-f]{64})\./.exec(blob)?.[1];
  const actual = sha256Hex(bytes);
  if (actual !== expected) throw new RegistryIntegrityError(`${join(dir, blob)}: sha256 is ${actual}, the name says ${expected}`);
  return bytes;
}

function blobName(file: string, sha256: string): string {
  return `${BLOBS}/${sha256}.${file.endsWith('.ubj') ? 'ubj' : 'json'}`;
}

/** Stores bytes under their hash; an existing blob is verified, not rewritten. */
function putBlob(dir: string, blob: string, bytes: Uint8Array): void {
  const path = join(dir, blob);
  if (existsSync(path)) {
    readBlob(dir, blob);
    return;
  }
  writeAtomic(path, bytes);
}

/** Who moved an alias: `PDM_USER`, else the login name. */
export function currentUser(): string {
  if (process.env.PDM_USER) return process.env.PDM_USER;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export interface RegisterInput {
  readonly assetModel: string;
  /** The asset model's manifest entry, as the bundle writer made it. */
  readonly entry: { readonly predictors: readonly (EntryPredictor & { readonly file: string; readonly sha256: string })[] };
  /** Bytes of an entry's `file` (relative to the bundle). */
  readonly readFile: (file: string) => Uint8Array;
  readonly featureEngineVersion: string;
  readonly created: string;
  readonly source: VersionRecord['source'];
  readonly git: VersionRecord['git'];
  /** Evaluations measured outside the trainer (a held-out replay). */
  readonly extraEvaluations?: readonly Evaluation[];
  /**
   * The evaluations, when the caller measured them itself (`pdm retrain`: a held-out time slice the
   * per-asset-model protocols of evaluations.ts do not describe). @default derived from the entry
   */
  readonly evaluations?: readonly Evaluation[];
  /** The champion scored on this version's evaluation (`pdm retrain`). */
  readonly comparedWith?: VersionRecord['comparedWith'];
}

function buildRecord(input: RegisterInput, id: string, files: VersionRecord['files']): VersionRecord {
  const byData = new Map<string, VersionRecord['trainingData'][number]>();
  const params: VersionRecord['params'] = {};
  for (const p of input.entry.predictors) {
    const hash = p.trainingDataHash ?? 'unknown';
    const data = byData.get(hash) ?? { hash, description: p.trainingData ?? '', rows: 0, predictors: [] };
    data.predictors.push(p.name);
    data.rows = Math.max(data.rows, p.trainingRows ?? 0);
    byData.set(hash, data);
    params[p.name] = { ...(p.params ?? {}) };
  }
  return versionRecordSchema.parse({
    schema: VERSION_SCHEMA,
    id,
    assetModel: input.assetModel,
    created: input.created,
    source: input.source,
    git: input.git,
    featureEngineVersion: input.featureEngineVersion,
    trainingData: [...byData.values()],
    params,
    entry: structuredClone(input.entry),
    files,
    evaluations: input.evaluations
      ? [...input.evaluations, ...(input.extraEvaluations ?? [])]
      : evaluationsOf(input.assetModel, input.entry.predictors, input.extraEvaluations ?? []),
    ...(input.comparedWith ? { comparedWith: input.comparedWith } : {}),
  });
}

function nextNumber(dir: string, assetModel: string): number {
  const folder = join(dir, assetModel);
  if (!existsSync(folder)) return 1;
  let max = 0;
  for (const name of readdirSync(folder)) {
    const m = /@([0-9]+)\.json$/.exec(name);
    if (m && name.startsWith(`${assetModel}@`)) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

/**
 * Stores the entry's files as blobs and publishes a new immutable record with the next free number.
 * The record appears whole or not at all: it is written under a temporary name and linked into place,
 * and `link` refuses an existing name, so a concurrent registration that took the number makes this one
 * try the next.
 */
export function registerVersion(dir: string, input: RegisterInput, opts: { readonly tryFirst?: number } = {}): VersionRecord {
  parseVersionId(versionId(input.assetModel, 1));
  const files: VersionRecord['files'] = [];
  for (const p of input.entry.predictors) {
    const bytes = input.readFile(p.file);
    const actual = sha256Hex(bytes);
    if (actual !== p.sha256) throw new RegistryIntegrityError(`${p.file}: sha256 is ${actual}, the manifest says ${p.sha256}`);
    files.push({ file: p.file, sha256: p.sha256, blob: blobName(p.file, p.sha256), bytes: bytes.length });
  }
  // Validate before anything is written: a record that cannot be built leaves no trace.
  buildRecord(input, versionId(input.assetModel, 1), files);
  for (const [i, p] of input.entry.predictors.entries()) putBlob(dir, files[i]!.blob, input.readFile(p.file));
  const folder = join(dir, input.assetModel);
  mkdirSync(folder, { recursive: true });
  // `tryFirst` lets a test play the writer that lost the race for a number.
  for (let n = opts.tryFirst ?? nextNumber(dir, input.assetModel); ; n++) {
    const record = buildRecord(input, versionId(input.assetModel, n), files);
    const path = recordPath(dir, record.id);
    const tmp = tmpName(path);
    writeFileSync(tmp, json(record));
    try {
      linkSync(tmp, path);
      return record;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      unlinkSync(tmp);
    }
  }
}

export interface RegisterBundleOptions {
  /** Asset models of the bundle to register. @default all */
  readonly only?: readonly string[];
  readonly source: (manifest: BundleManifest) => VersionRecord['source'];
  /** @default the manifest's createdAt */
  readonly created?: string;
  readonly git: VersionRecord['git'];
  /** Skip an asset model whose entry equals an already registered version's (import). @default false */
  readonly skipDuplicates?: boolean;
  readonly extraEvaluations?: Readonly<Record<string, readonly Evaluation[]>>;
}

export interface RegisterBundleResult {
  readonly versions: VersionRecord[];
  /** Asset model → the existing version whose entry the bundle repeats (skipDuplicates). */
  readonly duplicates: Readonly<Record<string, string>>;
}

/** Registers the asset models of a bundle folder after verifying it loads (sha256s, models). */
export function registerBundle(dir: string, bundleDir: string, opts: RegisterBundleOptions): RegisterBundleResult {
  const { manifest } = readBundle(bundleDir);
  const versions: VersionRecord[] = [];
  const duplicates: Record<string, string> = {};
  const existing = opts.skipDuplicates ? listVersions(dir) : [];
  for (const [assetModel, entry] of Object.entries(manifest.models)) {
    if (opts.only && !opts.only.includes(assetModel)) continue;
    const same = existing.find((v) => v.assetModel === assetModel && canonicalJson(v.entry) === canonicalJson(entry));
    if (same) {
      duplicates[assetModel] = same.id;
      continue;
    }
    versions.push(
      registerVersion(dir, {
        assetModel,
        entry,
        readFile: (file) => new Uint8Array(readFileSync(join(bundleDir, file))),
        featureEngineVersion: manifest.featureEngineVersion,
        created: opts.created ?? manifest.createdAt,
        source: opts.source(manifest),
        git: opts.git,
        ...(opts.extraEvaluations?.[assetModel] ? { extraEvaluations: opts.extraEvaluations[assetModel] } : {}),
      }),
    );
  }
  return { versions, duplicates };
}

/** The champion of an asset model, or null. */
export function championOf(dir: string, assetModel: string): VersionRecord | null {
  const id = readAliases(dir).champions[assetModel];
  return id ? readVersion(dir, id) : null;
}

/**
 * Writes the bundle of `champions` (asset model → version id) to `bundleDir`: each file from its blob
 * (verified), a manifest of the recorded entries (copied whole), `createdAt` = the newest champion's
 * `created`, so the bundle is a pure function of the champions. Built beside `bundleDir`, read back
 * through `readBundle`, then swapped in.
 */
export function materialize(
  dir: string,
  bundleDir: string,
  champions: Readonly<Record<string, string>> = readAliases(dir).champions,
  challengers: Readonly<Record<string, string>> = readAliases(dir).challengers ?? {},
): BundleManifest {
  const records = Object.keys(champions)
    .sort()
    .map((m) => readVersion(dir, champions[m]!));
  if (records.length === 0) throw new MaterializeError(`no champions in ${dir}: register a version (pdm train, pdm models import) and promote it`);
  // A challenger is shadow-scored only next to another champion of its asset model.
  const shadows = Object.keys(challengers)
    .sort()
    .filter((m) => champions[m] !== undefined && champions[m] !== challengers[m])
    .map((m) => readVersion(dir, challengers[m]!));
  const engines = new Set([...records, ...shadows].map((r) => r.featureEngineVersion));
  if (engines.size > 1) {
    throw new MaterializeError(
      `champions and challengers were built for different feature engines (${[...records, ...shadows].map((r) => `${r.id}: ${r.featureEngineVersion}`).join(', ')}); retrain or promote matching versions`,
    );
  }
  // Through the bundle schema, as writeBundle does: the same field order, so the same bytes. It holds
  // every field the loader accepts (it refuses unknown ones), so nothing a record carries is dropped.
  const parsed = manifestSchema.safeParse({
    schema: BUNDLE_SCHEMA,
    createdAt: records.map((r) => r.created).sort().at(-1)!,
    featureEngineVersion: records[0]!.featureEngineVersion,
    models: Object.fromEntries(records.map((r) => [r.assetModel, r.entry])),
    ...(shadows.length > 0
      ? {
          challengers: Object.fromEntries(
            shadows.map((r) => [r.assetModel, { version: r.id, predictors: r.entry.predictors.map((p) => ({ ...p, file: challengerFile(p.file) })) }]),
          ),
        }
      : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MaterializeError(`the champions' entries do not form a ${BUNDLE_SCHEMA} manifest: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  const manifest = parsed.data;
  const tmp = tmpName(bundleDir);
  try {
    const files = [
      ...records.flatMap((r) => r.files.map((f) => ({ file: f.file, blob: f.blob }))),
      ...shadows.flatMap((r) => r.files.map((f) => ({ file: challengerFile(f.file), blob: f.blob }))),
    ];
    for (const f of files) {
      const path = join(tmp, f.file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, readBlob(dir, f.blob));
    }
    writeManifestFile(tmp, manifest);
    const { manifest: loaded } = readBundle(tmp);
    // The swap is two renames: for an instant there is no bundle folder, never a half-written one.
    const old = existsSync(bundleDir) ? tmpName(`${bundleDir}.old`) : null;
    if (old) renameSync(bundleDir, old);
    renameSync(tmp, bundleDir);
    if (old) rmSync(old, { recursive: true, force: true });
    return loaded;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** A challenger's file in the bundle: beside the champion's, which usually has the same name. */
export function challengerFile(file: string): string {
  return `challengers/${file}`;
}

/** Writes the alias file; the challengers are always what its history replays to. */
function writeAliases(dir: string, aliases: Aliases): void {
  const challengers = challengersOf(aliases.history);
  const { schema, champions, history } = aliases;
  const out = Object.keys(challengers).length > 0 ? { schema, champions, challengers, history } : { schema, champions, history };
  writeAtomic(join(dir, ALIASES_FILE), json(aliasesSchema.parse(out)));
}

export interface MoveOptions {
  /** Bundle folder rebuilt from the champions after the move. Null: do not rebuild. */
  readonly bundleDir: string | null;
  readonly reason?: string;
  /** @default currentUser() */
  readonly by?: string;
  /** @default now */
  readonly at?: string;
}

export interface MoveResult {
  readonly move: AliasMove;
  readonly gate: GateResult | null;
  readonly manifest: BundleManifest | null;
  /** False when the version already was the champion (nothing moved). */
  readonly moved: boolean;
}

/** Applies a champion move (import, promote, rollback: `to` is always a version). */
function applyMove(dir: string, aliases: Aliases, move: AliasMove & { readonly to: string }, opts: MoveOptions): BundleManifest | null {
  const champions = { ...aliases.champions, [move.assetModel]: move.to };
  const manifest = opts.bundleDir ? materialize(dir, opts.bundleDir, champions) : null;
  writeAliases(dir, { schema: ALIASES_SCHEMA, champions, history: [...aliases.history, move] });
  return manifest;
}

/**
 * Makes `id` the champion of its asset model if the gate passes (or `force` with a reason), then rebuilds
 * the bundle from the champions. The move, the reason and the gate's verdict go into the alias history.
 */
export function promote(dir: string, id: string, opts: MoveOptions & { readonly force?: boolean }): MoveResult {
  if (opts.force && !opts.reason?.trim()) throw new MissingReasonError('--force needs --reason "<why>": the reason is recorded with the promotion');
  return withRegistryLock(dir, () => {
    const challenger = readVersion(dir, id);
    const aliases = readAliases(dir);
    const currentId = aliases.champions[challenger.assetModel] ?? null;
    const base = { at: opts.at ?? new Date().toISOString(), by: opts.by ?? currentUser(), assetModel: challenger.assetModel };
    if (currentId === id) {
      const manifest = opts.bundleDir ? materialize(dir, opts.bundleDir, aliases.champions) : null;
      const last = [...aliases.history].reverse().find((m) => m.assetModel === challenger.assetModel && m.to === id)!;
      return { move: last, gate: null, manifest, moved: false };
    }
    const champion = currentId ? readVersion(dir, currentId) : null;
    const verdict = gate(champion, challenger);
    if (!verdict.pass && !opts.force) throw new PromotionRefusedError(verdict);
    const move: AliasMove & { to: string } = {
      ...base,
      action: 'promote',
      from: currentId,
      to: id,
      forced: !verdict.pass,
      ...(opts.reason?.trim() ? { reason: opts.reason.trim() } : {}),
      gate: { pass: verdict.pass, reason: verdict.reason, checks: verdict.checks.map((c) => ({ ...c })) },
    };
    return { move, gate: verdict, manifest: applyMove(dir, aliases, move, opts), moved: true };
  });
}

/** Moves an asset model's champion back to the one before it in the alias history, and rebuilds the bundle. */
export function rollback(dir: string, assetModel: string, opts: MoveOptions): MoveResult {
  return withRegistryLock(dir, () => {
    const aliases = readAliases(dir);
    const stack = championStacks(aliases.history).get(assetModel) ?? [];
    if (stack.length === 0) {
      const known = Object.keys(aliases.champions).sort().join(', ') || 'none';
      throw new UnknownAssetModelError(`${assetModel} has no champion in ${dir} (asset models with one: ${known})`);
    }
    if (stack.length < 2) {
      throw new NothingToRollBackError(`${assetModel}: ${stack[0]} is the first champion in the history; there is nothing to roll back to`);
    }
    const move: AliasMove & { to: string } = {
      at: opts.at ?? new Date().toISOString(),
      by: opts.by ?? currentUser(),
      assetModel,
      action: 'rollback',
      from: stack.at(-1)!,
      to: stack.at(-2)!,
      forced: false,
      ...(opts.reason?.trim() ? { reason: opts.reason.trim() } : {}),
    };
    readVersion(dir, move.to);
    return { move, gate: null, manifest: applyMove(dir, aliases, move, opts), moved: true };
  });
}

/**
 * Makes imported versions the champions of asset models that have none (bootstrap from a shipped
 * bundle). Asset models with a champion keep it: moving it is `promote`'s job.
 */
export function adoptImported(dir: string, versions: readonly VersionRecord[], reason: string, by = currentUser()): AliasMove[] {
  return withRegistryLock(dir, () => {
    const aliases = readAliases(dir);
    const moves: AliasMove[] = [];
    const champions = { ...aliases.champions };
    for (const v of versions) {
      if (champions[v.assetModel]) continue;
      champions[v.assetModel] = v.id;
      moves.push({ at: new Date().toISOString(), by, assetModel: v.assetModel, action: 'import', from: null, to: v.id, forced: false, reason });
    }
    if (moves.length > 0) writeAliases(dir, { schema: ALIASES_SCHEMA, champions, history: [...aliases.history, ...moves] });
    return moves;
  });
}

/** Checks every record parses and every blob it names exists and hashes to its name; and the aliases. */
export function verifyRegistry(dir: string): { versions: number; blobs: number } {
  const versions = listVersions(dir);
  const aliases = readAliases(dir);
  const blobs = new Set<string>();
  for (const v of versions) {
    for (const f of v.files) {
      if (!blobs.has(f.blob)) readBlob(dir, f.blob);
      blobs.add(f.blob);
    }
  }
  const ids = new Set(versions.map((v) => v.id));
  for (const move of aliases.history) {
    if (move.to !== null && !ids.has(move.to)) throw new RegistryIntegrityError(`${ALIASES_FILE}: the history names ${move.to}, which has no record`);
  }
  return { versions: versions.length, blobs: blobs.size };
}

/** A shadow move the registry refuses: the version is the champion, or the asset model has no champion. */
export class ShadowError extends Error {
  override readonly name: string = 'ShadowError';
}

/**
 * Makes `id` the challenger of its asset model: from the next materialized bundle on, the features
 * function scores it next to the champion and writes its outputs to the history, never to a decision
 * (docs/models.md "Shadow challengers"). No gate: shadowing decides nothing. Rebuilds the bundle.
 */
export function shadow(dir: string, id: string, opts: MoveOptions): MoveResult {
  return withRegistryLock(dir, () => {
    const challenger = readVersion(dir, id);
    const aliases = readAliases(dir);
    const { assetModel } = challenger;
    const champion = aliases.champions[assetModel];
    if (!champion) throw new ShadowError(`${assetModel} has no champion in ${dir}: a challenger is scored only next to one (promote a version first)`);
    if (champion === id) throw new ShadowError(`${id} is the champion of ${assetModel}; shadow another version against it`);
    const current = aliases.challengers?.[assetModel] ?? null;
    if (current === id) {
      const manifest = opts.bundleDir ? materialize(dir, opts.bundleDir, aliases.champions, aliases.challengers) : null;
      const last = [...aliases.history].reverse().find((m) => m.assetModel === assetModel && m.action === 'shadow')!;
      return { move: last, gate: null, manifest, moved: false };
    }
    const move: AliasMove = {
      at: opts.at ?? new Date().toISOString(),
      by: opts.by ?? currentUser(),
      assetModel,
      action: 'shadow',
      from: current,
      to: id,
      forced: false,
      ...(opts.reason?.trim() ? { reason: opts.reason.trim() } : {}),
    };
    return { move, gate: null, manifest: applyShadowMove(dir, aliases, move, opts), moved: true };
  });
}

/** Clears the challenger of an asset model and rebuilds the bundle without it. */
export function clearShadow(dir: string, assetModel: string, opts: MoveOptions): MoveResult {
  return withRegistryLock(dir, () => {
    const aliases = readAliases(dir);
    const current = aliases.challengers?.[assetModel];
    if (!current) {
      const known = Object.keys(aliases.challengers ?? {}).sort().join(', ') || 'none';
      throw new UnknownAssetModelError(`${assetModel} has no challenger in ${dir} (asset models with one: ${known})`);
    }
    const move: AliasMove = {
      at: opts.at ?? new Date().toISOString(),
      by: opts.by ?? currentUser(),
      assetModel,
      action: 'unshadow',
      from: current,
      to: null,
      forced: false,
      ...(opts.reason?.trim() ? { reason: opts.reason.trim() } : {}),
    };
    return { move, gate: null, manifest: applyShadowMove(dir, aliases, move, opts), moved: true };
  });
}

function applyShadowMove(dir: string, aliases: Aliases, move: AliasMove, opts: MoveOptions): BundleManifest | null {
  const history = [...aliases.history, move];
  const manifest = opts.bundleDir ? materialize(dir, opts.bundleDir, aliases.champions, challengersOf(history)) : null;
  writeAliases(dir, { schema: ALIASES_SCHEMA, champions: aliases.champions, history });
  return manifest;
}
