import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { RefetchCoalescer } from './refetch';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A query whose server answer is `server.value`, read when each fetch starts and returned 30 ms later. */
function setUp() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const server = { value: 'pendiente', fetches: 0 };
  const key = ['publications', 'a1'];
  const observer = new QueryObserver(qc, {
    queryKey: key,
    queryFn: async () => {
      server.fetches++;
      const seen = server.value;
      await tick(30);
      return seen;
    },
  });
  // Subscribing is the page mounting: it starts the first load.
  const unsubscribe = observer.subscribe(() => undefined);
  return { qc, server, key, unsubscribe };
}

describe('RefetchCoalescer (the console refetching on events)', () => {
  it('an event during the page’s first load is followed by a fetch of its own: the page ends with the newer answer', async () => {
    const { qc, server, key, unsubscribe } = setUp();
    try {
      await tick(5); // the first load has left with «pendiente»
      expect(qc.getQueryState(key)?.fetchStatus).toBe('fetching');
      server.value = 'publicada'; // the event: the server has changed since
      await new RefetchCoalescer(qc).refetch(key);
      expect(qc.getQueryData(key)).toBe('publicada');
      expect(server.fetches).toBe(2);
    } finally {
      unsubscribe();
      qc.clear();
    }
  });

  it('a burst of events costs the running fetch plus one, and the last answer is newer than the last event', async () => {
    const { qc, server, key, unsubscribe } = setUp();
    try {
      await tick(40); // first load done
      expect(qc.getQueryData(key)).toBe('pendiente');
      const before = server.fetches;
      const coalescer = new RefetchCoalescer(qc);
      const waits: Promise<void>[] = [];
      for (let i = 1; i <= 30; i++) {
        server.value = `publicadas ${i}`;
        waits.push(coalescer.refetch(key));
        await tick(1);
      }
      await Promise.all(waits);
      expect(qc.getQueryData(key)).toBe('publicadas 30');
      expect(server.fetches - before).toBeLessThanOrEqual(3);
    } finally {
      unsubscribe();
      qc.clear();
    }
  });
});
