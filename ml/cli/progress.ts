/**
 * The progress bar of the long-running commands (`pdm train`, multi-seed `pdm evaluate`): drawn on
 * stderr, and only when stderr is a terminal and the command is not printing JSON, so piped or
 * machine-read output never carries bar frames.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Sets the number of finished steps and names the one now running. */
  update(done: number, step?: string): void;
  /** Prints a line the command would have printed, above the bar when there is one. */
  log(line: string): void;
  /** Removes the bar (idempotent). */
  stop(): void;
  /** Whether a bar is drawn. */
  readonly drawn: boolean;
}

export interface ProgressOptions {
  readonly label: string;
  readonly total: number;
  /** The command prints one JSON object: no bar. */
  readonly json?: boolean;
  /** Where the bar goes. @default process.stderr */
  readonly stream?: NodeJS.WriteStream;
  /** Where `log` lines go when no bar is drawn, or when it is not the same terminal. @default process.stdout */
  readonly out?: NodeJS.WritableStream & { isTTY?: boolean };
}

export function progressBar(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const out = opts.out ?? process.stdout;
  const plain = (line: string) => void out.write(`${line}\n`);
  if (opts.json === true || stream.isTTY !== true || opts.total <= 0) {
    return { update: () => {}, log: plain, stop: () => {}, drawn: false };
  }
  const multi = new cliProgress.MultiBar(
    {
      stream,
      format: `${opts.label} [{bar}] {value}/{total} {step}`,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  const bar = multi.create(opts.total, 0, { step: '' });
  let stopped = false;
  return {
    drawn: true,
    update: (done, step = '') => {
      if (stopped) return;
      bar.update(done, { step });
      // The commands are synchronous CPU work, so the bar's redraw timer would not fire: draw now.
      multi.update();
    },
    // Lines for the same terminal go above the bar; lines for a file or pipe go there untouched.
    log: (line) => {
      if (out.isTTY !== true || stopped) return plain(line);
      multi.log(`${line}\n`);
      multi.update();
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      multi.stop();
    },
  };
}
