/**
 * `pdm models list|show|diff|promote|rollback|shadow|import|materialize|verify`: the local model registry
 * (ml/registry/store.ts, docs/models.md "Model registry"); `pdm models compare` is in ./compare.ts.
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_BUNDLE_DIR } from '../bundle/read.ts';
import { canonicalJson } from '../registry/evaluations.ts';
import { gate, type GateResult, TOLERANCES } from '../registry/gate.ts';
import { gitState } from '../registry/git.ts';
import { type AliasMove, type Aliases, parseVersionId, type VersionRecord } from '../registry/record.ts';
import {
  adoptImported,
  clearShadow,
  DEFAULT_REGISTRY_DIR,
  listVersions,
  materialize,
  PromotionRefusedError,
  promote,
  readAliases,
  readVersion,
  registerBundle,
  rollback,
  shadow,
  verifyRegistry,
  WrongAssetModelError,
} from '../registry/store.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** `pdm models shadow` needs exactly one of a version and `--clear`. */
export class ShadowUsageError extends Error {
  override readonly name: string = 'ShadowUsageError';
}

/** A path as the repo knows it (relative) when it is inside the repo; else absolute. */
export function repoPath(path: string): string {
  const rel = relative(ROOT, resolve(path));
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? resolve(path) : rel.split('\\').join('/');
}

function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The gated metrics of a version (`<predictor>.<metric>` → value), for summaries. */
export function gatedMetrics(v: VersionRecord): Record<string, number> {
  const out: Record<string, number> = {};
  for (const ev of v.evaluations) {
    for (const [key, value] of Object.entries(ev.metrics)) {
      if (Object.hasOwn(TOLERANCES, key.slice(key.lastIndexOf('.') + 1))) out[key] = value;
    }
  }
  return out;
}

function movesOf(aliases: Aliases, id: string): AliasMove[] {
  return aliases.history.filter((m) => m.to === id || m.from === id);
}

/** The forced promotions that made `id` champion, with their reasons. */
function forcedOf(aliases: Aliases, id: string): { at: string; by: string; reason: string }[] {
  return aliases.history
    .filter((m) => m.to === id && m.forced)
    .map((m) => ({ at: m.at, by: m.by, reason: m.reason ?? '' }));
}

/** One line per version for `list --json` and `train --json`. */
export function summary(v: VersionRecord, aliases: Aliases): Record<string, unknown> {
  return {
    id: v.id,
    assetModel: v.assetModel,
    champion: aliases.champions[v.assetModel] === v.id,
    challenger: aliases.challengers?.[v.assetModel] === v.id,
    created: v.created,
    commit: v.git.commit,
    dirty: v.git.dirty,
    source: v.source.kind,
    featureEngineVersion: v.featureEngineVersion,
    predictors: v.entry.predictors.map((p) => p.name),
    metrics: gatedMetrics(v),
    forced: forcedOf(aliases, v.id),
  };
}

function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  return Number.isInteger(v) ? String(v) : String(+v.toPrecision(5));
}

function pad(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

function printGate(result: GateResult): void {
  print(`gate: ${result.pass ? 'PASS' : 'REFUSE'}: ${result.reason}`);
  if (result.checks.length === 0) return;
  const rows = [['  metric', 'champion', 'challenger', 'limit', 'tolerance', '']];
  for (const c of result.checks) {
    rows.push([
      `  ${c.metric}`,
      fmt(c.champion),
      fmt(c.challenger),
      fmt(c.limit),
      c.tolerance,
      c.comparable ? (c.ok ? 'ok' : 'WORSE') : `not comparable: ${c.note ?? ''}`,
    ]);
  }
  for (const line of pad(rows)) print(line);
}

interface Diff {
  readonly a: string;
  readonly b: string;
  readonly metrics: { metric: string; evaluation: string; a: number | null; b: number | null; sameEvaluation: boolean }[];
  readonly params: { predictor: string; param: string; a: unknown; b: unknown }[];
  readonly thresholds: { predictor: string; field: string; a: unknown; b: unknown }[];
  readonly calibration: { predictor: string; a: string; b: string }[];
  readonly trainingData: { a: string[]; b: string[] };
  readonly featureEngine: { a: string; b: string };
  readonly files: { file: string; change: 'same' | 'changed' | 'added' | 'removed'; a: string | null; b: string | null }[];
  readonly gate: GateResult;
}

type Pred = Record<string, unknown> & { name: string };

function predictorsOf(v: VersionRecord): Map<string, Pred> {
  return new Map(v.entry.predictors.map((p) => [p.name, p as Pred]));
}

/** What differs between two versions of one asset model, and the gate's verdict with `a` as champion. */
export function diffVersions(a: VersionRecord, b: VersionRecord): Diff {
  if (a.assetModel !== b.assetModel) {
    throw new WrongAssetModelError(`${a.id} and ${b.id} are versions of different asset models; diff compares two versions of one`);
  }
  const metrics: Diff['metrics'] = [];
  const keys = new Set([...a.evaluations, ...b.evaluations].flatMap((e) => Object.keys(e.metrics)));
  for (const key of [...keys].sort()) {
    const ea = a.evaluations.find((e) => key in e.metrics);
    const eb = b.evaluations.find((e) => key in e.metrics);
    metrics.push({
      metric: key,
      evaluation: (ea ?? eb)!.name,
      a: ea?.metrics[key] ?? null,
      b: eb?.metrics[key] ?? null,
      sameEvaluation: ea !== undefined && ea.id === eb?.id,
    });
  }
  const pa = predictorsOf(a);
  const pb = predictorsOf(b);
  const names = [...new Set([...pa.keys(), ...pb.keys()])].sort();
  const params: Diff['params'] = [];
  const thresholds: Diff['thresholds'] = [];
  const calibration: Diff['calibration'] = [];
  for (const name of names) {
    const x = a.params[name] ?? {};
    const y = b.params[name] ?? {};
    for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
      if (x[k] !== y[k]) params.push({ predictor: name, param: k, a: x[k] ?? null, b: y[k] ?? null });
    }
    const ta = (pa.get(name)?.alertThresholds ?? {}) as Record<string, unknown>;
    const tb = (pb.get(name)?.alertThresholds ?? {}) as Record<string, unknown>;
    for (const field of ['threshold', 'watch', 'warning', 'critical']) {
      const va = field === 'threshold' ? pa.get(name)?.threshold : ta[field];
      const vb = field === 'threshold' ? pb.get(name)?.threshold : tb[field];
      if (va !== vb) thresholds.push({ predictor: name, field, a: va ?? null, b: vb ?? null });
    }
    const kind = (p: Pred | undefined) => (p === undefined ? 'absent' : ((p.calibration as { method?: string } | undefined)?.method ?? 'none'));
    calibration.push({ predictor: name, a: kind(pa.get(name)), b: kind(pb.get(name)) });
  }
  const fa = new Map(a.files.map((f) => [f.file, f.sha256]));
  const fb = new Map(b.files.map((f) => [f.file, f.sha256]));
  const files: Diff['files'] = [...new Set([...fa.keys(), ...fb.keys()])].sort().map((file) => {
    const x = fa.get(file) ?? null;
    const y = fb.get(file) ?? null;
    return { file, a: x, b: y, change: x === null ? 'added' : y === null ? 'removed' : x === y ? 'same' : 'changed' };
  });
  return {
    a: a.id,
    b: b.id,
    metrics,
    params,
    thresholds,
    calibration,
    trainingData: { a: a.trainingData.map((d) => d.hash), b: b.trainingData.map((d) => d.hash) },
    featureEngine: { a: a.featureEngineVersion, b: b.featureEngineVersion },
    files,
    gate: gate(a, b),
  };
}

function printDiff(d: Diff): void {
  print(`${d.a} → ${d.b}`);
  print('metrics');
  for (const line of pad([
    ['  metric', d.a, d.b, 'evaluation'],
    ...d.metrics.map((m) => [`  ${m.metric}`, fmt(m.a), fmt(m.b), `${m.evaluation}${m.sameEvaluation ? '' : ' (different evaluations)'}`]),
  ])) print(line);
  if (d.params.length > 0) {
    print('params');
    for (const line of pad(d.params.map((p) => [`  ${p.predictor}.${p.param}`, String(p.a), String(p.b)]))) print(line);
  }
  if (d.thresholds.length > 0) {
    print('thresholds');
    for (const line of pad(d.thresholds.map((t) => [`  ${t.predictor}.${t.field}`, fmt(t.a as number), fmt(t.b as number)]))) print(line);
  }
  print('calibration');
  for (const line of pad(d.calibration.map((c) => [`  ${c.predictor}`, c.a, c.b]))) print(line);
  const same = (x: readonly string[], y: readonly string[]) => canonicalJson(x) === canonicalJson(y);
  print(`training data  ${same(d.trainingData.a, d.trainingData.b) ? 'same' : 'different'} (${d.trainingData.a.map((h) => h.slice(0, 12)).join(',')} → ${d.trainingData.b.map((h) => h.slice(0, 12)).join(',')})`);
  print(`feature engine ${d.featureEngine.a} → ${d.featureEngine.b}`);
  print('files');
  for (const line of pad(d.files.map((f) => [`  ${f.file}`, f.change]))) print(line);
  printGate(d.gate);
}

function sourceText(source: VersionRecord['source']): string {
  switch (source.kind) {
    case 'import':
      return `imported from ${source.bundle} (manifest createdAt ${source.bundleCreatedAt}) at ${source.importedAt}`;
    case 'train':
      return `pdm train --seed ${source.seed}${source.trainUntil ? ` --train-until ${source.trainUntil}` : ''}`;
    case 'sagemaker':
      return `pdm models pull --stage ${source.stage} from ${source.from}: ${source.packages.map((p) => `${p.predictor} = ${p.group} v${p.version}${p.trainingJob ? ` (${p.trainingJob})` : ''}`).join(', ')}`;
    default: {
      const kept = Object.keys(source.kept);
      return `pdm retrain --data-dir ${source.dataDir} from ${source.from}${kept.length > 0 ? ` (kept ${source.from}'s ${kept.join(', ')})` : ''}`;
    }
  }
}

function printVersion(v: VersionRecord, aliases: Aliases): void {
  const champion = aliases.champions[v.assetModel] === v.id;
  const challenger = aliases.challengers?.[v.assetModel] === v.id;
  print(`${v.id}${champion ? '  (champion)' : challenger ? '  (challenger: shadow-scored)' : ''}`);
  print(`  created   ${v.created}`);
  print(`  source    ${sourceText(v.source)}`);
  if (v.comparedWith) print(`  compared  with ${v.comparedWith.version} on ${v.comparedWith.evaluation}: ${JSON.stringify(v.comparedWith.metrics)}`);
  print(`  commit    ${v.git.commit ?? 'unknown'}${v.git.dirty ? ' (with uncommitted changes)' : ''}`);
  print(`  features  ${v.featureEngineVersion}`);
  for (const d of v.trainingData) print(`  data      ${d.hash.slice(0, 16)}…  ${d.rows} rows  ${d.description}`);
  for (const f of v.files) print(`  file      ${f.file}  ${f.sha256.slice(0, 16)}…  ${f.bytes} B`);
  for (const ev of v.evaluations) {
    print(`  ${ev.kind.padEnd(10)} ${ev.name} ${ev.id}`);
    for (const [k, val] of Object.entries(ev.metrics)) print(`    ${k} = ${fmt(val)}`);
  }
  for (const m of movesOf(aliases, v.id)) {
    print(`  alias     ${m.at} ${m.by}: ${m.action} ${m.from ?? '—'} → ${m.to ?? '—'}${m.forced ? ' FORCED' : ''}${m.reason ? `: ${m.reason}` : ''}`);
  }
  print('  (--json prints the whole record, with every manifest field)');
}

interface Common {
  registry: string;
  json?: boolean;
}

function registryOption(cmd: Command): Command {
  return cmd.option('--registry <dir>', 'registry folder', DEFAULT_REGISTRY_DIR).option('--json', 'print JSON');
}

/** Adds `models` and its subcommands to the program. */
/** `rollback --stage` without the predictor or the reason it needs. */
export class StageRollbackArgsError extends Error {
  override readonly name: string = 'StageRollbackArgsError';
}

export function register(program: Command): void {
  const models = program
    .command('models')
    .description('the model registry: versions from pdm train, one champion per asset model, promotion gate, rollback');

  registryOption(models.command('list').description('every registered version; * marks the champions, ~ the challengers')).action((opts: Common) => {
    const dir = resolve(opts.registry);
    const aliases = readAliases(dir);
    const versions = listVersions(dir);
    if (opts.json) return printJson({ versions: versions.map((v) => summary(v, aliases)) });
    if (versions.length === 0) return print(`no versions in ${repoPath(dir)}`);
    const rows = [['  id', 'created', 'commit', 'source', 'metrics']];
    for (const v of versions) {
      const s = summary(v, aliases);
      const forced = forcedOf(aliases, v.id);
      rows.push([
        `${s.champion ? '*' : s.challenger ? '~' : ' '} ${v.id}`,
        v.created.slice(0, 19),
        `${v.git.commit?.slice(0, 8) ?? '—'}${v.git.dirty ? '+' : ''}`,
        v.source.kind,
        Object.entries(gatedMetrics(v))
          .map(([k, x]) => `${k}=${fmt(x)}`)
          .join(' ') + (forced.length > 0 ? `  FORCED: ${forced.map((f) => f.reason).join('; ')}` : ''),
      ]);
    }
    for (const line of pad(rows)) print(line);
  });

  registryOption(models.command('show').description('one version record').argument('<version>', 'e.g. turbofan@2')).action(
    (id: string, opts: Common) => {
      const dir = resolve(opts.registry);
      const v = readVersion(dir, id);
      const aliases = readAliases(dir);
      if (opts.json) {
        return printJson({ ...v, champion: aliases.champions[v.assetModel] === v.id, challenger: aliases.challengers?.[v.assetModel] === v.id, forced: forcedOf(aliases, id), aliasMoves: movesOf(aliases, id) });
      }
      printVersion(v, aliases);
    },
  );

  registryOption(
    models
      .command('diff')
      .description('two versions side by side (metrics, params, thresholds, calibration, data, files) and what the gate says of B replacing A')
      .argument('<a>', 'e.g. the champion, turbofan@1')
      .argument('<b>', 'e.g. the challenger, turbofan@2'),
  ).action((a: string, b: string, opts: Common) => {
    const dir = resolve(opts.registry);
    const d = diffVersions(readVersion(dir, a), readVersion(dir, b));
    if (opts.json) return printJson(d);
    printDiff(d);
  });

  registryOption(
    models
      .command('promote')
      .description('make a version its asset model\'s champion if the gate passes, and rebuild the bundle from the champions')
      .argument('<version>', 'e.g. turbofan@2')
      .option('--force', 'promote although the gate refuses (needs --reason)')
      .option('--reason <text>', 'why; recorded in the alias history')
      .option('--bundle <dir>', 'bundle folder to rebuild', DEFAULT_BUNDLE_DIR)
      .option('--no-bundle', 'move the alias only'),
  ).action((id: string, opts: Common & { force?: boolean; reason?: string; bundle: string | false }) => {
    const dir = resolve(opts.registry);
    const bundleDir = opts.bundle === false ? null : resolve(opts.bundle);
    try {
      const r = promote(dir, id, {
        bundleDir,
        ...(opts.force ? { force: true } : {}),
        ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
      });
      if (opts.json) return printJson({ promoted: r.moved, move: r.move, gate: r.gate, bundle: bundleDir && repoPath(bundleDir) });
      if (!r.moved) print(`${id} already is the champion of ${parseVersionId(id).assetModel}`);
      else {
        if (r.gate) printGate(r.gate);
        print(`${r.move.assetModel}: ${r.move.from ?? '—'} → ${r.move.to}${r.move.forced ? ` (FORCED: ${r.move.reason})` : ''}`);
      }
      if (bundleDir) print(`rebuilt ${repoPath(bundleDir)} from the champions`);
    } catch (e) {
      if (e instanceof PromotionRefusedError) {
        if (opts.json) printJson({ promoted: false, gate: e.result });
        else printGate(e.result);
      }
      throw e;
    }
  });

  registryOption(
    models
      .command('rollback')
      .description('move an asset model\'s champion back to the previous one in the alias history, and rebuild the bundle')
      .argument('<assetModel>', 'e.g. turbofan')
      .option('--reason <text>', 'why; recorded in the alias history')
      .option('--bundle <dir>', 'bundle folder to rebuild', DEFAULT_BUNDLE_DIR)
      .option('--no-bundle', 'move the alias only')
      .option('--stage <name>', 'roll back in the SageMaker Model Registry of this deployed stage instead (with --predictor and --reason)')
      .option('--region <region>', 'with --stage: AWS region of the stage')
      .option('--predictor <name>', 'with --stage: the predictor whose model package group to roll back, e.g. failure'),
  ).action(async (assetModel: string, opts: Common & { reason?: string; bundle: string | false; stage?: string; region?: string; predictor?: string }) => {
    if (assetModel.includes('@')) {
      throw new WrongAssetModelError(`rollback takes an asset model (e.g. ${assetModel.split('@')[0]}), not a version id (${assetModel})`);
    }
    if (opts.stage !== undefined) {
      if (opts.predictor === undefined || opts.reason === undefined) {
        throw new StageRollbackArgsError('rollback --stage needs --predictor <name> and --reason <text> (the reason is recorded as the rejection description)');
      }
      // Loaded only here: the SageMaker client is not needed by the local commands.
      const { rollbackStage } = await import('./models-aws.ts');
      await rollbackStage({
        stage: opts.stage,
        assetModel,
        predictor: opts.predictor,
        reason: opts.reason,
        ...(opts.region !== undefined ? { region: opts.region } : {}),
        ...(opts.json ? { json: true } : {}),
      });
      return;
    }
    const dir = resolve(opts.registry);
    const bundleDir = opts.bundle === false ? null : resolve(opts.bundle);
    const r = rollback(dir, assetModel, { bundleDir, ...(opts.reason !== undefined ? { reason: opts.reason } : {}) });
    if (opts.json) return printJson({ move: r.move, bundle: bundleDir && repoPath(bundleDir) });
    print(`${assetModel}: ${r.move.from} → ${r.move.to} (rolled back)`);
    if (bundleDir) print(`rebuilt ${repoPath(bundleDir)} from the champions`);
  });

  registryOption(
    models
      .command('shadow')
      .description('make a version its asset model\'s challenger: scored next to the champion, outputs to the history only (pdm models compare); rebuild the bundle')
      .argument('[version]', 'e.g. turbofan@3')
      .option('--clear <assetModel>', 'stop shadow-scoring the asset model\'s challenger')
      .option('--reason <text>', 'why; recorded in the alias history')
      .option('--bundle <dir>', 'bundle folder to rebuild', DEFAULT_BUNDLE_DIR)
      .option('--no-bundle', 'move the alias only'),
  ).action((id: string | undefined, opts: Common & { clear?: string; reason?: string; bundle: string | false }) => {
    if ((id === undefined) === (opts.clear === undefined)) {
      throw new ShadowUsageError('give either a version (pdm models shadow turbofan@3) or --clear <assetModel>');
    }
    const dir = resolve(opts.registry);
    const bundleDir = opts.bundle === false ? null : resolve(opts.bundle);
    const moveOpts = { bundleDir, ...(opts.reason !== undefined ? { reason: opts.reason } : {}) };
    const r = opts.clear !== undefined ? clearShadow(dir, opts.clear, moveOpts) : shadow(dir, id!, moveOpts);
    if (opts.json) return printJson({ moved: r.moved, move: r.move, bundle: bundleDir && repoPath(bundleDir) });
    if (!r.moved) print(`${id} already is the challenger of ${r.move.assetModel}`);
    else if (r.move.to === null) print(`${r.move.assetModel}: challenger ${r.move.from} cleared`);
    else print(`${r.move.assetModel}: challenger ${r.move.from ?? '—'} → ${r.move.to} (champion ${readAliases(dir).champions[r.move.assetModel]} still decides)`);
    if (bundleDir) print(`rebuilt ${repoPath(bundleDir)} from the champions and challengers`);
  });

  registryOption(
    models
      .command('import')
      .description('register the asset models of a bundle folder as versions; asset models without a champion adopt them')
      .option('--bundle <dir>', 'bundle folder', DEFAULT_BUNDLE_DIR)
      .option('--only <modelId...>', 'import only these asset models'),
  ).action((opts: Common & { bundle: string; only?: string[] }) => {
    const dir = resolve(opts.registry);
    const bundle = resolve(opts.bundle);
    const importedAt = new Date().toISOString();
    const { versions, duplicates } = registerBundle(dir, bundle, {
      ...(opts.only ? { only: opts.only } : {}),
      source: (m) => ({ kind: 'import', bundle: repoPath(bundle), bundleCreatedAt: m.createdAt, importedAt }),
      git: gitState(ROOT),
      skipDuplicates: true,
    });
    const adopted = adoptImported(dir, versions, `imported from ${repoPath(bundle)}`);
    if (opts.json) {
      const aliases = readAliases(dir);
      return printJson({ versions: versions.map((v) => summary(v, aliases)), duplicates, adopted: adopted.map((m) => m.to) });
    }
    for (const v of versions) print(`registered ${v.id}${adopted.some((m) => m.to === v.id) ? ' (champion: the asset model had none)' : ''}`);
    for (const [m, id] of Object.entries(duplicates)) print(`${m}: already registered as ${id}`);
  });

  registryOption(
    models
      .command('materialize')
      .description('write the bundle of the current champions (what promote and rollback do after a move)')
      .option('--bundle <dir>', 'bundle folder', DEFAULT_BUNDLE_DIR),
  ).action((opts: Common & { bundle: string }) => {
    const dir = resolve(opts.registry);
    const bundleDir = resolve(opts.bundle);
    const manifest = materialize(dir, bundleDir);
    const aliases = readAliases(dir);
    const challengers = Object.fromEntries(Object.entries(manifest.challengers ?? {}).map(([m, c]) => [m, c.version]));
    if (opts.json) return printJson({ bundle: repoPath(bundleDir), champions: aliases.champions, challengers, createdAt: manifest.createdAt });
    const shadows = Object.values(challengers);
    print(`wrote ${repoPath(bundleDir)} from ${Object.values(aliases.champions).join(', ')}${shadows.length > 0 ? `; challengers ${shadows.join(', ')}` : ''}`);
  });

  registryOption(models.command('verify').description('check every record, blob sha256 and the alias history')).action((opts: Common) => {
    const result = verifyRegistry(resolve(opts.registry));
    if (opts.json) return printJson({ ok: true, ...result });
    print(`ok: ${result.versions} versions, ${result.blobs} blobs verified`);
  });
}
