/**
 * A Redis call, bounded: the shared ioredis connection queues commands while Redis is away
 * (maxRetriesPerRequest: null), so an unbounded call would hang the caller — holding row locks, or a
 * sweep — until Redis returns. A call that completes after the timeout is harmless: job ids make a
 * repeated add a no-op, and the callers re-check the database.
 */
export async function redisCall<T>(call: Promise<T>, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      call,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
