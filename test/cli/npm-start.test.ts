import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scaled } from '../support/env.ts';

const ROOT = join(import.meta.dirname, '../..');

/** Resolves with the first match of `re` in the child's stdout. */
function waitFor(child: ChildProcess, re: RegExp, ms: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms; output: ${text}`)), ms);
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      const m = text.match(re);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
  });
}

/** Every process below `pid` (npm's shell, if any, and pdm local under it). */
function descendants(pid: number): number[] {
  const out = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout;
  const kids = out.split(/\s+/).filter(Boolean).map(Number);
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when nothing listens on 127.0.0.1:`port` any more (we can bind it ourselves). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

describe('npm start', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('stops pdm local and frees its port when npm gets %s', async (signal) => {
    // Arrange: npm start as a user or a process manager runs it.
    const npm = spawn('npm', ['start', '--', '--assets', '2', '--no-dashboard'], {
      cwd: ROOT,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let below: number[] = [];
    try {
      const [, port] = await waitFor(npm, /MQTT broker mqtt:\/\/127\.0\.0\.1:(\d+)/, scaled(60_000));
      below = descendants(npm.pid!);
      expect(below.length).toBeGreaterThan(0);
      expect(await portFree(Number(port))).toBe(false);

      // Act: the signal goes to npm only, not to the process group.
      const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
      npm.kill(signal);
      await exited;

      // Assert: pdm local has stopped and its broker port is free.
      expect(await until(() => !below.some(alive), scaled(20_000))).toBe(true);
      expect(await until(() => portFree(Number(port)), scaled(5_000))).toBe(true);
    } finally {
      for (const pid of below) if (alive(pid)) process.kill(pid, 'SIGKILL');
      if (npm.exitCode === null) npm.kill('SIGKILL');
    }
  });
});
