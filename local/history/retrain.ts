/**
 * `pdm retrain --data-dir D`: trains a challenger per asset model from a local run's history and
 * registers it (ml/retrain/retrain.ts does the training; docs/models.md "Retrain from the history").
 * Never moves a champion: `pdm models diff` and `pdm models promote` do that.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ASSET_MODELS } from '../../lambdas/core/catalog/index.ts';
import { writeBundle } from '../../ml/bundle/write.ts';
import { repoPath, summary } from '../../ml/cli/models.ts';
import { gate, type GateResult } from '../../ml/registry/gate.ts';
import { gitState } from '../../ml/registry/git.ts';
import type { VersionRecord } from '../../ml/registry/record.ts';
import { championOf, DEFAULT_REGISTRY_DIR, readAliases, readBlob, registerVersion } from '../../ml/registry/store.ts';
import { InsufficientHistoryError, RetrainInputError, type RetrainResult, retrainFromHistory } from '../../ml/retrain/retrain.ts';
import { readTrainingHistory } from './export.ts';
import { openHistory } from './source.ts';

const ROOT = join(import.meta.dirname, '..', '..');

export interface RetrainOptions {
  readonly dataDir: string;
  /** @default every time-clock asset model with a champion and rows in the history */
  readonly assetModels?: readonly string[];
  /** @default models/ */
  readonly registry?: string;
  readonly log?: (line: string) => void;
}

export interface RetrainedVersion {
  readonly version: VersionRecord;
  readonly champion: string;
  readonly gate: GateResult;
  readonly outcome: RetrainResult['outcome'];
}

export interface RetrainReport {
  readonly versions: RetrainedVersion[];
  /** Asset models not retrained, with why (no rows; too few failures). */
  readonly skipped: Record<string, string>;
}

/** Retrains and registers; throws when nothing could be retrained (the reasons are in the message). */
export async function retrain(opts: RetrainOptions): Promise<RetrainReport> {
  const log = opts.log ?? (() => {});
  const registry = resolve(opts.registry ?? DEFAULT_REGISTRY_DIR);
  const explicit = opts.assetModels !== undefined;
  const ids = opts.assetModels ?? ASSET_MODELS.filter((m) => m.clock === 'time').map((m) => m.id);
  const history = await openHistory({ dataDir: opts.dataDir });
  const versions: RetrainedVersion[] = [];
  const skipped: Record<string, string> = {};
  try {
    for (const id of ids) {
      const champion = championOf(registry, id);
      if (!champion) {
        if (explicit) throw new RetrainInputError(`${id} has no champion in ${repoPath(registry)}: retrain starts from a champion's params`);
        continue;
      }
      const data = await readTrainingHistory(history.engine, history.dialect, id, 0, Date.UTC(9999, 0, 1));
      if (data.rows.length === 0) {
        if (explicit) throw new RetrainInputError(`the history in ${opts.dataDir} has no feature rows of ${id}`);
        skipped[id] = 'no feature rows in the history';
        continue;
      }
      let result: RetrainResult;
      try {
        result = retrainFromHistory({
          champion,
          championFile: (file) => {
            const f = champion.files.find((x) => x.file === file);
            if (!f) throw new RetrainInputError(`${champion.id} has no file ${file}`);
            return Buffer.from(readBlob(registry, f.blob)).toString('utf8');
          },
          history: data,
          dataDir: opts.dataDir,
          log,
        });
      } catch (e) {
        if (explicit || !(e instanceof InsufficientHistoryError)) throw e;
        skipped[id] = e.message;
        log(`${id}: not retrained: ${e.message}`);
        continue;
      }
      versions.push(registerChallenger(registry, champion, result));
    }
  } finally {
    await history.close();
  }
  if (versions.length === 0) {
    const why = Object.entries(skipped).map(([id, w]) => `${id}: ${w}`);
    throw new InsufficientHistoryError(`nothing retrained from ${opts.dataDir}${why.length > 0 ? `: ${why.join('; ')}` : ''}`);
  }
  return { versions, skipped };
}

function registerChallenger(registry: string, champion: VersionRecord, result: RetrainResult): RetrainedVersion {
  const staging = mkdtempSync(join(tmpdir(), 'pdm-retrain-'));
  try {
    // The bundle writer gates each file and builds the entry (drift reference included), as pdm train does.
    const manifest = writeBundle(staging, [result.set]);
    const entry = manifest.models[result.set.modelId]!;
    const version = registerVersion(registry, {
      assetModel: result.set.modelId,
      entry,
      readFile: (file) => new Uint8Array(readFileSync(join(staging, file))),
      featureEngineVersion: manifest.featureEngineVersion,
      created: manifest.createdAt,
      source: result.source,
      git: gitState(ROOT),
      evaluations: [result.evaluation],
      comparedWith: result.comparedWith,
    });
    return { version, champion: champion.id, gate: gate(champion, version), outcome: result.outcome };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

export function register(program: Command): void {
  program
    .command('retrain')
    .description('train a challenger per asset model from a local run\'s history (labels: repair/replacement messages) and register it; the champion stays')
    .requiredOption('--data-dir <dir>', 'the --data-dir of a pdm local run')
    .option('--asset-model <id...>', 'only these asset models (default: every time-clock model with a champion and history rows)')
    .option('--registry <dir>', 'model registry folder', DEFAULT_REGISTRY_DIR)
    .option('--json', 'print {"versions": [...], "skipped": {...}}')
    .action(async (opts: { dataDir: string; assetModel?: string[]; registry: string; json?: boolean }, cmd: Command) => {
      try {
        const report = await retrain({
          dataDir: opts.dataDir,
          registry: opts.registry,
          ...(opts.assetModel ? { assetModels: opts.assetModel } : {}),
          ...(opts.json ? {} : { log: (l: string) => process.stdout.write(`${l}\n`) }),
        });
        const aliases = readAliases(resolve(opts.registry));
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({
              versions: report.versions.map((v) => ({ ...summary(v.version, aliases), comparedWith: v.version.comparedWith, gate: v.gate, outcome: v.outcome })),
              skipped: report.skipped,
              registry: repoPath(resolve(opts.registry)),
            })}\n`,
          );
          return;
        }
        for (const v of report.versions) {
          process.stdout.write(
            `registered ${v.version.id}; champion ${v.champion}, gate would ${v.gate.pass ? 'pass' : 'refuse'} (${v.gate.reason}): npx pdm models diff ${v.champion} ${v.version.id}\n`,
          );
        }
      } catch (e) {
        const error = e as Error;
        cmd.error(`pdm retrain: ${error.name}: ${error.message}`, { exitCode: 2 });
      }
    });
}
