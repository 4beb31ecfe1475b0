import { DisseminationConfig } from '../dissemination.config';

/**
 * When a marker look-up that finds nothing counts as evidence, and when there is enough of it.
 * Timelines and feeds lag behind writes, so one empty answer proves nothing: absence is concluded only
 * after `attempts` misses, each made at least `backoff(n)` after the previous one (doubling, capped).
 */
export interface MarkerSearchPolicy {
  attempts: number;
  backoffMs: number;
  backoffMaxMs: number;
}

export function markerSearchPolicy(c: DisseminationConfig): MarkerSearchPolicy {
  return {
    attempts: c.MARKER_SEARCH_ATTEMPTS,
    backoffMs: c.MARKER_SEARCH_BACKOFF_MS,
    backoffMaxMs: c.MARKER_SEARCH_BACKOFF_MAX_MS,
  };
}

/** How long after the `misses`-th miss (≥ 1) the next look-up is due. */
export function waitAfterMiss(misses: number, p: MarkerSearchPolicy): number {
  return Math.min(p.backoffMaxMs, p.backoffMs * 2 ** Math.max(0, misses - 1));
}

/** The moment the next look-up counts (epoch ms); now or earlier when none was made yet. */
export function nextLookupAt(misses: number, lastMissAt: Date | null, p: MarkerSearchPolicy): number {
  if (misses <= 0 || !lastMissAt) return 0;
  return new Date(lastMissAt).getTime() + waitAfterMiss(misses, p);
}

/** Enough spaced misses: the post is taken to be absent. */
export function absenceEstablished(misses: number, p: MarkerSearchPolicy): boolean {
  return misses >= p.attempts;
}

/** How long the whole search lasts from the first miss to the conclusion (for docs and checks). */
export function searchWindowMs(p: MarkerSearchPolicy): number {
  let total = 0;
  for (let n = 1; n < p.attempts; n++) total += waitAfterMiss(n, p);
  return total;
}
