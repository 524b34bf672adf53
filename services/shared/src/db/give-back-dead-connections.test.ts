import { EventEmitter } from 'node:events';
import { giveBackDeadConnections } from './give-back-dead-connections.js';

/** pg-pool's side of a checkout, as far as the guard sees it: events, and one release per checkout. */
class FakePool extends EventEmitter {
  released: (Error | undefined)[] = [];
  connectNew(): FakeClient {
    const client = new FakeClient();
    this.emit('connect', client);
    return client;
  }
  checkout(client: FakeClient): void {
    this.emit('acquire', client);
    let done = false;
    client.release = (err?: Error) => {
      if (done) throw new Error('Release called on client which has already been released to the pool.');
      done = true;
      this.released.push(err);
      this.emit('release', err, client);
    };
  }
}
class FakeClient extends EventEmitter {
  release: (err?: Error) => void = () => undefined;
}

describe('giveBackDeadConnections', () => {
  it('releases a checked-out connection whose session ended, with an error so the pool drops it', () => {
    const pool = new FakePool();
    giveBackDeadConnections(pool);
    const client = pool.connectNew();
    pool.checkout(client);
    client.emit('end');
    expect(pool.released).toEqual([expect.any(Error)]);
    expect(pool.released[0]!.message).toMatch(/session ended while its connection was checked out/);
  });

  it("lets the holder's own later release pass without a second release", () => {
    const pool = new FakePool();
    giveBackDeadConnections(pool);
    const client = pool.connectNew();
    pool.checkout(client);
    client.emit('end');
    expect(() => client.release()).not.toThrow();
    expect(pool.released).toHaveLength(1);
  });

  it('leaves a connection alone that was released before its session ended', () => {
    const pool = new FakePool();
    giveBackDeadConnections(pool);
    const client = pool.connectNew();
    pool.checkout(client);
    client.release();
    client.emit('end');
    expect(pool.released).toEqual([undefined]);
  });

  it('follows a connection across checkouts: only the one holding it when it ends is released', () => {
    const pool = new FakePool();
    giveBackDeadConnections(pool);
    const client = pool.connectNew();
    pool.checkout(client);
    client.release();
    pool.checkout(client);
    client.emit('end');
    expect(pool.released).toEqual([undefined, expect.any(Error)]);
  });
});
