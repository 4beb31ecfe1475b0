import { QueryClient, QueryKey, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';

/**
 * Refetches a query because an event says it changed, so that the answer the page ends with is always
 * newer than the last event. Events come in bursts (30 publications within a second): a refetch already
 * running is not cancelled (that would starve under a burst) but followed by one more when it ends.
 *
 * A fetch this coalescer did not start (the page's first load, which TanStack Query joins rather than
 * repeats even with `cancelRefetch`) may have left before the event: it is waited for and then followed
 * by a fetch of our own. Without that, a page opened while its alert was being posted kept the answer of
 * its first load (accounts «pendiente») even though every event had arrived.
 *
 * One coalescer per QueryClient, shared by every component: two components refetching the same key
 * coalesce too.
 */
export class RefetchCoalescer {
  private readonly state = new Map<string, { running: Promise<void> | null; dirty: boolean }>();

  constructor(private readonly qc: QueryClient) {}

  refetch(key: QueryKey): Promise<void> {
    const k = JSON.stringify(key);
    let entry = this.state.get(k);
    if (!entry) this.state.set(k, (entry = { running: null, dirty: false }));
    if (entry.running) {
      entry.dirty = true;
      return entry.running;
    }
    const e = entry;
    const run = async (): Promise<void> => {
      try {
        do {
          e.dirty = false;
          // A fetch under way that we did not start began before we were asked: it counts as a pass
          // only once it has ended, and one of our own follows it.
          const joined = this.qc.getQueryState(key)?.fetchStatus === 'fetching';
          await this.qc
            .refetchQueries({ queryKey: key, exact: true }, { cancelRefetch: false })
            .catch(() => undefined);
          if (joined) e.dirty = true;
        } while (e.dirty);
      } finally {
        e.running = null;
      }
    };
    e.running = run();
    return e.running;
  }
}

const coalescers = new WeakMap<QueryClient, RefetchCoalescer>();

export function coalescerOf(qc: QueryClient): RefetchCoalescer {
  let c = coalescers.get(qc);
  if (!c) coalescers.set(qc, (c = new RefetchCoalescer(qc)));
  return c;
}

/** `refetch(key)` through the QueryClient's shared coalescer (see RefetchCoalescer). */
export function useCoalescedRefetch(): (key: QueryKey) => Promise<void> {
  const qc = useQueryClient();
  return useCallback((key: QueryKey) => coalescerOf(qc).refetch(key), [qc]);
}

/**
 * Refetches until a condition holds, for resources whose owner learns of an event at the same time as
 * the page (the tracker's timeline records the event the gateway just pushed; intake closes an alert
 * after the tracker's AlertClosed). A few tries with growing pauses, each started by that event.
 */
export function useRefetchUntil(): (
  key: QueryKey,
  done: (data: any) => boolean,
  tries?: number,
) => Promise<boolean> {
  const qc = useQueryClient();
  return useCallback(
    async (key, done, tries = 7) => {
      for (let attempt = 0; attempt < tries; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, 150 * 2 ** attempt));
        await coalescerOf(qc).refetch(key);
        if (done(qc.getQueryData(key))) return true;
      }
      return false;
    },
    [qc],
  );
}
