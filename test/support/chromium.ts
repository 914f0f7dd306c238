/**
 * The Chromium the browser tests drive: the system's (Debian's `chromium`, or `PDM_CHROMIUM`) when that
 * file exists, else the headless build that npm installed with the devDependency `@sparticuz/chromium`
 * (the binary ships inside the registry package, brotli-compressed), so `npm ci && npm test` needs no
 * system browser. The npm build links against NSS, NSPR and expat; the package ships those too, and they
 * go on LD_LIBRARY_PATH so a machine without them still runs it.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';

export interface ChromiumChoice {
  readonly executablePath: string;
  /** Where it came from, for the test log. */
  readonly source: 'system' | 'npm';
  /** Extra environment for the browser process (the shared libraries of the npm build). */
  readonly env: Readonly<Record<string, string>>;
}

/** No Chromium could be found or unpacked. */
export class ChromiumUnavailableError extends Error {
  override readonly name = 'ChromiumUnavailableError';
}

const ROOT = join(import.meta.dirname, '..', '..');
export const SYSTEM_CHROMIUM = process.env.PDM_CHROMIUM || '/usr/bin/chromium';

async function inflate(from: string, to: string): Promise<void> {
  await pipeline(createReadStream(from), createBrotliDecompress(), createWriteStream(to, { mode: 0o755 }));
}

/**
 * Unpacks the npm build once into node_modules/.cache (not /tmp, which other users share); a half
 * unpacked copy is never used because the folder is renamed into place only when complete.
 */
async function unpackNpmChromium(): Promise<ChromiumChoice> {
  // The package's exports map hides its bin/ folder from require.resolve; npm puts it at the top level.
  const pkgDir = join(ROOT, 'node_modules', '@sparticuz', 'chromium');
  if (!existsSync(join(pkgDir, 'bin', 'chromium.br'))) {
    throw new ChromiumUnavailableError(
      `no Chromium at ${SYSTEM_CHROMIUM} and the devDependency @sparticuz/chromium is not installed: run \`npm ci\``,
    );
  }
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const target = join(ROOT, 'node_modules', '.cache', 'pdm-chromium', version);
  const binary = join(target, 'chromium');
  const libs = join(target, 'lib');
  if (!existsSync(binary)) {
    const staging = `${target}.${process.pid}.partial`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    try {
      await inflate(join(pkgDir, 'bin', 'chromium.br'), join(staging, 'chromium'));
      // al2023.tar.br holds lib/libnss3.so and friends; tar is part of every Debian base system.
      await inflate(join(pkgDir, 'bin', 'al2023.tar.br'), join(staging, 'al2023.tar'));
      const tar = spawnSync('tar', ['-xf', 'al2023.tar'], { cwd: staging, encoding: 'utf8' });
      if (tar.status !== 0) throw new ChromiumUnavailableError(`cannot unpack the npm Chromium's libraries: ${tar.stderr || tar.error}`);
      rmSync(join(staging, 'al2023.tar'));
      mkdirSync(dirname(target), { recursive: true });
      try {
        renameSync(staging, target);
      } catch (e) {
        // Another test process won the race: its copy is complete, ours is not needed.
        if (!existsSync(binary)) throw e;
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  const ld = [libs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return { executablePath: binary, source: 'npm', env: { LD_LIBRARY_PATH: ld } };
}

/** The Chromium to launch: the system one when present, else the one npm installed. */
export async function findChromium(): Promise<ChromiumChoice> {
  if (existsSync(SYSTEM_CHROMIUM)) return { executablePath: SYSTEM_CHROMIUM, source: 'system', env: {} };
  return unpackNpmChromium();
}
