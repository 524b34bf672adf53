import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../harness/index.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `shopstream <args>` as a real process from the repo root (the TypeScript entry through tsx,
 * as `npx shopstream` runs the built one), with only `env` plus PATH so nothing leaks in from the
 * test's own environment. Never rejects on a non-zero exit: the exit code is part of what is tested.
 */
export function runCli(
  args: string[],
  env: Record<string, string>,
  options: { timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'cli/src/main.ts'), ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A hung command must fail its test with what it printed, not hang the suite.
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout,
        stderr: signal ? `${stderr}\n(killed by ${signal})` : stderr,
      });
    });
  });
}

/** The environment `shopstream` reads, pointed at one test's database, brokers, group and topic. */
export function cliEnv(options: {
  databaseUrl: string;
  brokers: string;
  group?: string;
  topic?: string;
}): Record<string, string> {
  return {
    DATABASE_URL: options.databaseUrl,
    KAFKA_BROKERS: options.brokers,
    ...(options.group ? { CONSUMER_GROUP_ID: options.group } : {}),
    ...(options.topic ? { CONSUMER_TOPIC: options.topic } : {}),
  };
}

/** Parses a command's --json stdout, failing with what it printed when it is not JSON. */
export function parseJson<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\n${result.stdout}\n--- stderr:\n${result.stderr}`);
  }
}
