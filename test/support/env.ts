/**
 * What the test suite takes from the machine, in one place: the Python interpreter of the live parity
 * checks, and how much slower than a quiet machine this one is running (timeouts scale with it).
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';

/** The interpreter with Debian's python3-xgboost and python3-sklearn; `PDM_PYTHON` overrides it. */
export const PYTHON = process.env.PDM_PYTHON || '/usr/bin/python3';

/** Python, or the live cross-checks, cannot run here: names what is missing and how to get it. */
export class PythonUnavailableError extends Error {
  override readonly name = 'PythonUnavailableError';
}

/**
 * Fails (never skips) when `PYTHON` cannot import `modules`: the live parity checks are a separate
 * command (`npm run test:parity`) exactly so that they can be required wherever they are run.
 */
export function requirePython(modules: readonly string[]): string {
  const probe = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}; import xgboost; print(xgboost.__version__)`], {
    encoding: 'utf8',
    timeout: scaled(60_000),
  });
  if (probe.status !== 0) {
    const why = (probe.error?.message ?? probe.stderr ?? '').trim().split('\n').pop() ?? '';
    throw new PythonUnavailableError(
      `${PYTHON} cannot import ${modules.join(', ')} (${why}): install them with ` +
        '`apt-get install -y python3-xgboost python3-sklearn`, or point PDM_PYTHON at an interpreter that has them',
    );
  }
  return probe.stdout.trim();
}

/**
 * How many times slower than a quiet machine this one is likely to run: the 1-minute load average per
 * core, from 1 (quiet) up to 6, times `PDM_TEST_TIME_SCALE` (default 1). Read once, when the suite starts.
 * A shared 2-core machine under 8 workers ran the suite 3.5–4× slower than a quiet one, so fixed
 * timeouts sized on a quiet machine failed for the wrong reason.
 */
export const LOAD_FACTOR: number = (() => {
  const perCore = (loadavg()[0] ?? 0) / Math.max(1, cpus().length);
  const extra = Number(process.env.PDM_TEST_TIME_SCALE ?? '1');
  return Math.min(6, Math.max(1, perCore)) * (Number.isFinite(extra) && extra > 0 ? extra : 1);
})();

/** A timeout sized for a quiet machine, stretched by `LOAD_FACTOR`. */
export function scaled(ms: number): number {
  return Math.round(ms * LOAD_FACTOR);
}
