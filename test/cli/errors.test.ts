import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorLine, exitCodeOf, FileNotFoundError, namedError, PermissionDeniedError } from '../../bin/cli-errors.ts';

const ROOT = join(import.meta.dirname, '../..');

function pdm(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/pdm.mjs'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', PDM_DEBUG: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stderr.trimEnd().split('\n') };
}

describe('errorLine', () => {
  it('names a missing file and the command in one line', () => {
    // Arrange: the error fs.readFileSync throws for a missing file.
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x/y.csv'"), {
      code: 'ENOENT',
      path: '/x/y.csv',
      syscall: 'open',
    });

    // Act
    const line = errorLine(enoent, 'evaluate ai4i');

    // Assert
    expect(line).toBe('pdm evaluate ai4i: FileNotFoundError: no such file or folder: /x/y.csv');
    expect(namedError(enoent)).toBeInstanceOf(FileNotFoundError);
  });

  it('maps a permission error to PermissionDeniedError and keeps other errors as they are', () => {
    const eacces = Object.assign(new Error('EACCES'), { code: 'EACCES', path: '/root/f' });
    class CsvInputError extends Error {
      override readonly name = 'CsvInputError';
    }
    const own = new CsvInputError('line 3: 2 cells\nexpected 3');

    expect(namedError(eacces)).toBeInstanceOf(PermissionDeniedError);
    expect(namedError(own)).toBe(own);
    expect(errorLine(own, 'score')).toBe('pdm score: CsvInputError: line 3: 2 cells expected 3');
    expect(errorLine('plain text', '')).toBe('pdm: plain text');
  });

  it('takes the exit code an error carries, else 1', () => {
    expect(exitCodeOf(Object.assign(new Error('x'), { exitCode: 2 }))).toBe(2);
    expect(exitCodeOf(new Error('x'))).toBe(1);
    expect(exitCodeOf(Object.assign(new Error('x'), { exitCode: 0 }))).toBe(1);
    expect(exitCodeOf(undefined)).toBe(1);
  });
});

describe('pdm error handling', () => {
  it.each([
    [['evaluate', 'ai4i', '--file', '/nonexistent/ai4i2020.csv'], 'pdm evaluate ai4i: FileNotFoundError: no such file or folder: /nonexistent/ai4i2020.csv'],
    [['evaluate', 'azure', '--data-dir', '/nonexistent/azure'], 'pdm evaluate azure: FileNotFoundError: no such file or folder: /nonexistent/azure/'],
    [['ingest', '--file', '/nonexistent/lines.jsonl'], 'pdm ingest: FileNotFoundError: no such file or folder: /nonexistent/lines.jsonl'],
  ])('%j fails with one line and a non-zero exit', (args, start) => {
    const r = pdm(...args);

    expect(r.status).not.toBe(0);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]!.startsWith(start)).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints the stack as well with --debug', () => {
    const r = pdm('evaluate', 'ai4i', '--file', '/nonexistent/ai4i2020.csv', '--debug');

    expect(r.status).toBe(1);
    expect(r.lines[0]).toBe('pdm evaluate ai4i: FileNotFoundError: no such file or folder: /nonexistent/ai4i2020.csv');
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('prints the package version for --version', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

    expect(pdm('--version')).toMatchObject({ status: 0, stdout: `${version}\n` });
  });

  it.each([
    [['cost', '--assets', '10', '--interval', '60', '--stream-mode', 'foo'], /'foo' is invalid\. Allowed choices are provisioned, on-demand/],
    [['local', '--scoring', 'gpu'], /'gpu' is invalid\. Allowed choices are in-lambda, endpoint/],
  ])('%j refuses a value outside the choices, naming them', (args, message) => {
    const r = pdm(...args);

    expect(r.status).toBe(1);
    expect(r.lines).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});
