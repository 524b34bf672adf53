/** A failure the user can act on: printed as one message, exit code 1 (2 for usage errors). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, 2);

export interface OutputOptions {
  json?: boolean;
}

/** Prints `value` as JSON with --json, else the human text. Every command's output goes through here. */
export function emit(options: OutputOptions, value: unknown, text: () => string): void {
  process.stdout.write(`${options.json ? JSON.stringify(value, null, 2) : text()}\n`);
}

/**
 * Runs a command's action: a CliError or ConfigError prints its message (no stack) and sets the
 * exit code; anything else is a bug and keeps its stack.
 */
export async function runAction(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`shopstream: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else if ((err as Error).name === 'ConfigError') {
      process.stderr.write(`shopstream: ${(err as Error).message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`shopstream: unexpected failure: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  }
}
