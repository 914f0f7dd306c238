import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressBar } from '../../ml/cli/progress.ts';

const ROOT = join(import.meta.dirname, '../..');

/** A stream that records what is written; `isTTY` as given. */
function sink(isTTY: boolean): Writable & { isTTY: boolean; columns: number; text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return Object.assign(w, { isTTY, columns: 100, text: () => chunks.join('') });
}

describe('progressBar', () => {
  it('draws a bar with the step on a terminal, lines above it, and clears it at the end', () => {
    // Arrange
    const err = sink(true);
    const out = sink(true);
    const p = progressBar({ label: 'train', total: 3, stream: err as unknown as NodeJS.WriteStream, out });

    // Act
    p.update(1, 'turbofan');
    p.log('training turbofan…');
    p.update(3);
    p.stop();
    p.stop();

    // Assert
    expect(p.drawn).toBe(true);
    expect(err.text()).toContain('train [');
    expect(err.text()).toContain('1/3 turbofan');
    expect(err.text()).toContain('training turbofan…');
    expect(out.text()).toBe('');
  });

  it('draws nothing when the stream is not a terminal, and lines go to the output untouched', () => {
    const err = sink(false);
    const out = sink(false);
    const p = progressBar({ label: 'train', total: 3, stream: err as unknown as NodeJS.WriteStream, out });

    p.update(1, 'turbofan');
    p.log('training turbofan…');
    p.stop();

    expect(p.drawn).toBe(false);
    expect(err.text()).toBe('');
    expect(out.text()).toBe('training turbofan…\n');
  });

  it('draws nothing for a command printing JSON, even on a terminal', () => {
    const err = sink(true);
    const p = progressBar({ label: 'evaluate', total: 5, json: true, stream: err as unknown as NodeJS.WriteStream, out: sink(true) });

    p.update(2, 'seed 3');
    p.stop();

    expect(p.drawn).toBe(false);
    expect(err.text()).toBe('');
  });
});

describe('pdm evaluate ai4i progress', () => {
  const args = ['bin/pdm.mjs', 'evaluate', 'ai4i', '--seeds', '2', '--no-xgboost'];
  const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

  it('shows a bar on a terminal (script(1) gives the command one) and none when piped', () => {
    // Act: the same run under a pseudo-terminal, then with stdout and stderr piped.
    const tty = spawnSync('script', ['-qec', `${process.execPath} ${args.join(' ')}`, '/dev/null'], { cwd: ROOT, encoding: 'utf8', env });
    const piped = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env });

    // Assert
    expect(tty.status, tty.stderr).toBe(0);
    expect(tty.stdout).toMatch(/evaluate ai4i \[[^\]]*\] \d\/2/);
    expect(piped.status).toBe(0);
    expect(piped.stderr).not.toContain('evaluate ai4i [');
    expect(piped.stdout).toContain('PR-AUC');
    expect(piped.stdout).not.toContain('\u001b[');
  });
});
