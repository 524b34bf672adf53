import { pino } from 'pino';
import { RelayWakeup } from './relay-wakeup.js';

/** A notify whose calls stay open until the test settles them, so overlap can be arranged. */
function gatedNotify() {
  const sent: string[] = [];
  const open: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  const notify = (payload: string) =>
    new Promise<void>((resolve, reject) => {
      sent.push(payload);
      open.push({ resolve, reject });
    });
  const settleNext = async (err?: Error) => {
    const call = open.shift()!;
    if (err) call.reject(err);
    else call.resolve();
    await new Promise((r) => setImmediate(r));
  };
  return { sent, open, notify, settleNext };
}

const silent = pino({ level: 'silent' });

describe('RelayWakeup', () => {
  it('notifies at once with the shard of the first write', async () => {
    const n = gatedNotify();
    const wakeup = new RelayWakeup(n.notify, silent);
    wakeup.eventsCommitted(7);
    expect(n.sent).toEqual(['7']);
    await n.settleNext();
    await wakeup.settled();
    expect(n.sent).toEqual(['7']);
  });

  it('keeps one NOTIFY in flight and sends exactly one more for all writes made meanwhile', async () => {
    const n = gatedNotify();
    const wakeup = new RelayWakeup(n.notify, silent);
    wakeup.eventsCommitted(1);
    for (let i = 0; i < 50; i++) wakeup.eventsCommitted(3);
    expect(n.sent).toEqual(['1']);
    await n.settleNext();
    expect(n.sent).toEqual(['1', '3']);
    await n.settleNext();
    await wakeup.settled();
    expect(n.sent).toEqual(['1', '3']);
  });

  it('wakes every shard (empty payload) when the writes it covers were in several shards', async () => {
    const n = gatedNotify();
    const wakeup = new RelayWakeup(n.notify, silent);
    wakeup.eventsCommitted(1);
    wakeup.eventsCommitted(2);
    wakeup.eventsCommitted(3);
    wakeup.eventsCommitted(2);
    await n.settleNext();
    expect(n.sent).toEqual(['1', '']);
    await n.settleNext();
    await wakeup.settled();
  });

  it('drops a failed NOTIFY and still sends the next one', async () => {
    const n = gatedNotify();
    const wakeup = new RelayWakeup(n.notify, silent);
    wakeup.eventsCommitted(4);
    wakeup.eventsCommitted(5);
    await n.settleNext(new Error('connection refused'));
    expect(n.sent).toEqual(['4', '5']);
    await n.settleNext();
    await wakeup.settled();
    wakeup.eventsCommitted(6);
    expect(n.sent).toEqual(['4', '5', '6']);
    await n.settleNext();
    await wakeup.settled();
  });
});
