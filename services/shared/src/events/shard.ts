/** Shards partition the outbox between relays; 64 unless configured (DESIGN §2). */
export const DEFAULT_SHARD_COUNT = 64;

/**
 * The outbox shard of an aggregate: FNV-1a (32 bit) over the id's 16 bytes, finished with
 * murmur3's fmix32 (FNV's low bits depend only on the inputs' low bits), mod `shardCount`.
 * Stable across processes and releases, so every event of one product lands in the same shard and
 * is published in order by whichever relay holds it. Changing this function reorders nothing
 * already published but would split a product's pending events between shards: do not.
 */
export function shardOf(aggregateId: string, shardCount = DEFAULT_SHARD_COUNT): number {
  const hex = aggregateId.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`not a uuid: ${aggregateId}`);
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > 32767) {
    throw new RangeError(`shard count must be an integer in 1..32767, got ${shardCount}`);
  }
  let hash = 0x811c9dc5;
  for (let i = 0; i < 32; i += 2) {
    hash ^= parseInt(hex.slice(i, i + 2), 16);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % shardCount;
}
