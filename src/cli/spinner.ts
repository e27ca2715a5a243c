// A spinner on stderr while a command waits for the cluster. ora costs
// ~45 ms to import, so it loads only when a spinner is really shown.
import type { Writable } from 'node:stream';

export interface SpinnerOptions {
  /** False when stderr is not a TTY, or with --json or -q: then work runs silently. */
  enabled: boolean;
  stream: Writable;
}

/** Spinners are for a person watching a terminal: never in JSON mode, quiet mode or a pipe. */
export function spinnerWanted(when: { stderrIsTTY: boolean; json: boolean; quiet: boolean }): boolean {
  return when.stderrIsTTY && !when.json && !when.quiet;
}

export async function withSpinner<T>(label: string, work: () => Promise<T>, options: SpinnerOptions): Promise<T> {
  if (!options.enabled) return work();
  const { default: ora } = await import('ora');
  // discardStdin: false, because a command may still read stdin (a confirmation).
  const spinner = ora({ text: label, stream: options.stream, isEnabled: true, discardStdin: false }).start();
  try {
    const value = await work();
    spinner.succeed();
    return value;
  } catch (err) {
    spinner.fail();
    throw err;
  }
}
