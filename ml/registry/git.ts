/** The commit a version was made from, for its record. Outside a git checkout both are null. */
import { execFileSync } from 'node:child_process';

export function gitState(cwd: string): { commit: string | null; dirty: boolean | null } {
  const run = (args: string[]) =>
    execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  try {
    const commit = run(['rev-parse', 'HEAD']);
    // Tracked changes only: untracked scratch files do not make the trained code differ from the commit.
    const dirty = run(['status', '--porcelain', '--untracked-files=no']).length > 0;
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}
