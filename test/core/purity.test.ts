import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = join(import.meta.dirname, '../../lambdas/core');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Module specifiers that mean AWS code or I/O; the core must stay pure so it runs anywhere, the same. */
const FORBIDDEN_MODULES = [
  /^@aws-sdk\//,
  /^aws-sdk$/,
  /^@smithy\//,
  /^@aws-lambda-powertools\//,
  /^aws-cdk-lib/,
  /^(node:)?(fs|fs\/promises|net|http|https|http2|child_process|dgram|dns|tls|worker_threads|cluster|readline)$/,
];
/** Globals that read the world: time, randomness, network, environment, console. */
const FORBIDDEN_CALLS = [
  /\bfetch\s*\(/,
  /\bDate\.now\s*\(/,
  /\bMath\.random\s*\(/,
  /\bprocess\.(env|stdout|stderr|argv|hrtime)/,
  /\bconsole\./,
  /\brequire\s*\(/,
  /\bnew Date\(\)/,
];

function importsOf(text: string): string[] {
  const specifiers: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"`]*?from\s*['"]([^'"]+)['"]/g))
    specifiers.push(m[1]!);
  for (const m of text.matchAll(/import\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) specifiers.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) specifiers.push(m[1]!);
  return specifiers;
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

describe('lambdas/core purity', () => {
  const files = sourceFiles(CORE);

  it('finds the core sources', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it('imports no AWS SDK and no I/O module', () => {
    const offenders = files.flatMap((file) =>
      importsOf(readFileSync(file, 'utf8'))
        .filter((spec) => FORBIDDEN_MODULES.some((re) => re.test(spec)))
        .map((spec) => `${relative(CORE, file)} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('imports nothing from outside lambdas/core except npm packages', () => {
    const offenders = files.flatMap((file) =>
      importsOf(readFileSync(file, 'utf8'))
        .filter((spec) => spec.startsWith('.'))
        .filter((spec) => relative(CORE, join(file, '..', spec)).startsWith('..'))
        .map((spec) => `${relative(CORE, file)} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('reads no clock, randomness, environment or console', () => {
    const offenders = files.flatMap((file) => {
      const text = stripComments(readFileSync(file, 'utf8'));
      return FORBIDDEN_CALLS.filter((re) => re.test(text)).map(
        (re) => `${relative(CORE, file)} matches ${re}`,
      );
    });
    expect(offenders).toEqual([]);
  });

  it('detects a forbidden import when one is present', () => {
    const sample = "import { KinesisClient } from '@aws-sdk/client-kinesis';\nimport fs from 'node:fs';";
    const found = importsOf(sample).filter((spec) => FORBIDDEN_MODULES.some((re) => re.test(spec)));
    expect(found).toEqual(['@aws-sdk/client-kinesis', 'node:fs']);
  });
});
