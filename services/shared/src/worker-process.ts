import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';
import { serveOps } from './ops-server.js';

export interface WorkerProcess {
  log: Logger;
  ops: { host: string; port: number; registry: Registry; ready: () => Promise<boolean> };
  /**
   * Runs after the ops server is up, so /healthz answers while the worker starts. It may take
   * long (the consumer waits for its topics): a signal meanwhile runs `stop`, which must end it.
   */
  start: () => Promise<void>;
  /** What SIGTERM/SIGINT does, logged with `stopMessage` first; the process exits 0 after it. */
  stop: () => Promise<void>;
  stopMessage: string;
}

/**
 * The lifecycle every worker (relay, consumer) shares: serve /healthz, /readyz, /metrics, start,
 * and on the first SIGTERM or SIGINT — during start too — run `stop` once, close the ops server and
 * exit 0 (1 if stop failed). Rejects if `start` does, unless a signal came first: then how `start`
 * ended is the stop's business.
 */
export async function runWorkerProcess(worker: WorkerProcess): Promise<void> {
  const server = serveOps(worker.ops);
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    worker.log.info({ signal }, worker.stopMessage);
    let code = 0;
    try {
      await worker.stop();
      worker.log.info('stopped');
    } catch (err) {
      worker.log.error({ err }, 'stopping failed');
      code = 1;
    }
    server.close();
    process.exit(code);
  };
  const onSigterm = (): void => void shutdown('SIGTERM');
  const onSigint = (): void => void shutdown('SIGINT');
  process.on('SIGTERM', onSigterm);
  process.on('SIGINT', onSigint);
  try {
    await worker.start();
  } catch (err) {
    if (stopping) return;
    process.off('SIGTERM', onSigterm);
    process.off('SIGINT', onSigint);
    server.close();
    throw err;
  }
}
