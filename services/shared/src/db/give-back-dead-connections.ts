/** The part of a `pg.Pool` (and of its clients) this module needs; structural, so `shared` needs no `pg`. */
export interface PooledClient {
  release(err?: Error): void;
  once(event: 'end', listener: () => void): unknown;
}
export interface ClientPool {
  on(event: 'connect' | 'acquire', listener: (client: PooledClient) => void): unknown;
  on(event: 'release', listener: (err: Error | undefined, client: PooledClient) => void): unknown;
}

/**
 * Gives a pooled connection back to `pool` when its session ends while someone holds it.
 *
 * Kysely, which MikroORM 7 runs its transactions on, releases a transaction's connection only after
 * its COMMIT or ROLLBACK succeeded, and not at all when BEGIN fails. When the session dies inside a
 * transaction (PostgreSQL restarts or fails over, pg_terminate_backend) neither can succeed, so the
 * slot was never returned: a few such deaths used up the pool and every later request timed out
 * acquiring a connection, for as long as the process lived (DESIGN §9, "A PostgreSQL session dies
 * inside a write"). A dead connection is never worth keeping, so the pool drops it at once; the
 * holder's own release, should it still come, finds nothing to do instead of throwing
 * "Release called on client which has already been released".
 */
export function giveBackDeadConnections(pool: ClientPool): void {
  const held = new WeakSet<PooledClient>();
  pool.on('acquire', (client) => held.add(client));
  pool.on('release', (_err, client) => held.delete(client));
  pool.on('connect', (client) => {
    client.once('end', () => {
      if (!held.has(client)) return; // idle: pg-pool has already dropped it on the error before 'end'
      const release = client.release.bind(client);
      client.release = () => undefined;
      release(new Error('the PostgreSQL session ended while its connection was checked out'));
    });
  });
}
