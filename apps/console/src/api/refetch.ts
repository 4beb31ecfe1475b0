import { QueryKey, useQueryClient } from '@tanstack/react-query';
import { useCallback, useRef } from 'react';

/**
 * Refetches a query because an event says it changed. Events come in bursts (30 publications within a
 * second): a refetch already running is not cancelled (that would starve under a burst) but followed
 * by one more when it ends, so the last answer is always newer than the last event.
 */
export function useCoalescedRefetch(): (key: QueryKey) => Promise<void> {
  const qc = useQueryClient();
  const state = useRef(new Map<string, { running: Promise<void> | null; dirty: boolean }>());
  return useCallback(
    (key: QueryKey) => {
      const k = JSON.stringify(key);
      let s = state.current.get(k);
      if (!s) state.current.set(k, (s = { running: null, dirty: false }));
      const entry = s;
      if (entry.running) {
        entry.dirty = true;
        return entry.running;
      }
      const run = async (): Promise<void> => {
        do {
          entry.dirty = false;
          await qc
            .refetchQueries({ queryKey: key, exact: true }, { cancelRefetch: false })
            .catch(() => undefined);
        } while (entry.dirty);
        entry.running = null;
      };
      entry.running = run();
      return entry.running;
    },
    [qc],
  );
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
  const refetch = useCoalescedRefetch();
  return useCallback(
    async (key, done, tries = 7) => {
      for (let attempt = 0; attempt < tries; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, 150 * 2 ** attempt));
        await refetch(key);
        if (done(qc.getQueryData(key))) return true;
      }
      return false;
    },
    [qc, refetch],
  );
}
