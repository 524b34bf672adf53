import pg from 'pg';
import { notifyThrough } from '@shopstream/api';
import { freePort, waitFor } from '../../harness/index.js';
import { SELLER, bearer, jsonInit, startApi } from './api-under-test.js';
import type { ApiUnderTest } from './api-under-test.js';

/**
 * DESIGN §4 item 6: relays are woken by `NOTIFY outbox_event` (payload: the shard), sent after the
 * write committed and outside its transaction, so no write holds PostgreSQL's notify lock.
 */
describe('relay wake-ups after a write', () => {
  const create = async (api: ApiUnderTest, title: string): Promise<Response> =>
    api.request(
      '/products',
      jsonInit('POST', { title, price: 5, stock: 1 }, bearer(await api.token(SELLER))),
    );
  const eventOf = async (api: ApiUnderTest, productId: string) => {
    const { rows } = await api.sql.query<{ shard: number }>(
      'select shard from outbox_event where aggregate_id = $1',
      [productId],
    );
    return rows;
  };

  describe('with the database reachable', () => {
    let api: ApiUnderTest;
    let listener: pg.Client;
    const received: Array<{ payload: string | undefined; processId: number }> = [];
    beforeAll(async () => {
      api = await startApi();
      listener = new pg.Client({ connectionString: api.db.url });
      await listener.connect();
      listener.on('notification', (n) => {
        if (n.channel === 'outbox_event') received.push({ payload: n.payload, processId: n.processId });
      });
      await listener.query('LISTEN outbox_event');
    });
    afterAll(async () => {
      await listener.end();
      await api.close();
    });

    it('notifies outbox_event with the shard of the event a POST wrote', async () => {
      const res = await create(api, 'Wake');
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      const [event] = await eventOf(api, id);
      expect(event).toBeDefined();
      const notification = await waitFor(
        async () => received.find((n) => n.payload === String(event!.shard)),
        {
          description: `a notification naming shard ${event!.shard}`,
        },
      );
      expect(notification.payload).toBe(String(event!.shard));
    });
  });

  it('answers the write 201 with its event committed before any wake-up is sent', async () => {
    // A wake-up that stays unsent until the test lets it go: the write must not wait for it.
    const sent: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const api = await startApi({
      notify: async (payload) => {
        await gate;
        sent.push(payload);
      },
    });
    try {
      const res = await create(api, 'Before wake-up');
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      // Visible to another session: committed, while the wake-up is still held back.
      const [event] = await eventOf(api, id);
      expect(event).toBeDefined();
      expect(sent).toEqual([]);
      release();
      await api.relays.settled();
      expect(sent).toEqual([String(event!.shard)]);
    } finally {
      release();
      await api.close();
    }
  });

  it('still answers writes 201 and commits their events when no wake-up can be sent', async () => {
    // Nothing listens on this port: every NOTIFY fails to connect.
    const nowhere = new pg.Pool({
      connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`,
      connectionTimeoutMillis: 1_000,
      max: 1,
    });
    nowhere.on('error', () => undefined);
    const api = await startApi({ notify: notifyThrough(nowhere) });
    try {
      for (const title of ['Unwoken 1', 'Unwoken 2']) {
        const res = await create(api, title);
        expect(res.status).toBe(201);
        const { id } = (await res.json()) as { id: string };
        expect(await eventOf(api, id)).toHaveLength(1);
      }
      await api.relays.settled();
    } finally {
      await api.close();
      await nowhere.end();
    }
  });
});
