import { SELLER, bearer, jsonInit, startApi } from './api-under-test.js';
import type { ApiUnderTest } from './api-under-test.js';

// A pod whose clock is 25 years behind: whatever it stamps is obvious.
const POD_TIME = new Date('2001-02-03T04:05:06.000Z');

describe('outbox rows carry the database clock, not the pod clock', () => {
  let api: ApiUnderTest;
  beforeAll(async () => {
    api = await startApi({ clock: { now: () => POD_TIME } });
  });
  afterAll(() => api.close());

  it('stamps outbox_event.created_at and next_attempt_at and idempotency_key.created_at with now() of the database; ce_time stays the change time', async () => {
    const res = await api.request(
      '/products',
      jsonInit(
        'POST',
        { title: 'Clock', price: 3, stock: 1 },
        { ...bearer(await api.token(SELLER)), 'Idempotency-Key': 'clock-1' },
      ),
    );
    expect(res.status).toBe(201);
    const product = (await res.json()) as { id: string; updated_at: string };
    expect(product.updated_at).toBe(POD_TIME.toISOString());

    const { rows } = await api.sql.query<{
      created_skew: number;
      next_attempt_skew: number;
      key_skew: number;
      ce_time: string;
    }>(
      `select abs(extract(epoch from e.created_at - now()))::float8 as created_skew,
              abs(extract(epoch from e.next_attempt_at - now()))::float8 as next_attempt_skew,
              (select abs(extract(epoch from k.created_at - now()))::float8 from idempotency_key k where k.key = 'clock-1') as key_skew,
              e.headers->>'ce_time' as ce_time
       from outbox_event e where e.aggregate_id = $1`,
      [product.id],
    );
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    // Written moments ago by the database's clock (a minute is generous); the pod's is 25 years off.
    expect(row.created_skew).toBeLessThan(60);
    expect(row.next_attempt_skew).toBeLessThan(60);
    expect(row.key_skew).toBeLessThan(60);
    expect(row.ce_time).toBe(POD_TIME.toISOString());

    // The replay window is measured on the same clock: the key still replays.
    const again = await api.request(
      '/products',
      jsonInit(
        'POST',
        { title: 'Clock', price: 3, stock: 1 },
        { ...bearer(await api.token(SELLER)), 'Idempotency-Key': 'clock-1' },
      ),
    );
    expect(again.status).toBe(201);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
  });
});
