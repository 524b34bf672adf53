import pg from 'pg';

/**
 * Runs `work` on a connection of `pool` and gives it back. A connection whose failure was not an
 * ordinary SQL error (its session ended, the socket broke, a client-side timeout left a query
 * running) is discarded instead of reused; a plain statement error leaves the session usable.
 */
export async function runOnPooledClient<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await work(client);
  } catch (err) {
    if (!(err instanceof pg.DatabaseError && err.severity === 'ERROR')) {
      broken = err instanceof Error ? err : new Error(String(err));
    }
    throw err;
  } finally {
    client.release(broken);
  }
}
