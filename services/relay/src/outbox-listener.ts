import pg from 'pg';
import type { Logger } from '@shopstream/shared';

/**
 * `LISTEN outbox_event` on a dedicated connection: the API notifies (with the shard) when it commits
 * an event, so the relay wakes at once instead of waiting for its next poll. When the connection
 * drops (PostgreSQL restarted) it reconnects with backoff; polling covers the gap.
 */
export class OutboxListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryMs = 250;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** A URL, or pg options with timeouts and keepalive (a half-open socket must not hide a lost LISTEN). */
    private readonly connection: string | pg.ClientConfig,
    private readonly onNotify: (shard: number | undefined) => void,
    private readonly log: Logger,
  ) {}

  get listening(): boolean {
    return this.client !== undefined;
  }

  start(): void {
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client(
      typeof this.connection === 'string' ? { connectionString: this.connection } : this.connection,
    );
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      client.removeAllListeners();
      void client.end().catch(() => undefined);
      if (this.stopped) return;
      this.log.warn({ err, retryInMs: this.retryMs }, 'outbox listener lost its connection; reconnecting');
      this.scheduleReconnect();
    };
    try {
      client.on('error', lost);
      client.on('end', () => lost());
      await client.connect();
      client.on('notification', (n) => {
        const shard = n.payload ? Number(n.payload) : undefined;
        this.onNotify(Number.isInteger(shard) ? shard : undefined);
      });
      await client.query('LISTEN outbox_event');
      this.client = client;
      this.retryMs = 250;
      this.log.info('listening for outbox_event notifications');
      // Anything committed while we were not listening is picked up by this wake-up.
      this.onNotify(undefined);
    } catch (err) {
      client.removeAllListeners();
      await client.end().catch(() => undefined);
      if (this.stopped) return;
      this.log.warn(
        { err: (err as Error).message, retryInMs: this.retryMs },
        'outbox listener could not connect',
      );
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    this.timer = setTimeout(() => void this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 10_000);
  }
}
