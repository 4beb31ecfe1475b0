/** One level of a task's escalation chain as planned at activation (absolute deadline). */
export interface PlannedLevel {
  level: number;
  dueAt: string | Date;
}

export type LevelReadiness =
  /** The level may fire now. */
  | { ready: true; dueAt: Date }
  /**
   * Not yet: `notBefore` is the earliest moment it could. While the previous level has not fired,
   * that is a lower bound (the previous level firing now + the planned gap), to be looked at again.
   */
  | { ready: false; notBefore: Date; waitingFor: number | null };

/**
 * When an escalation level may fire. The rule (docs/coordination.md, «Escalation after an outage»):
 *
 * - a level never fires before its planned deadline;
 * - levels fire in order: level N only after level N−1 has fired;
 * - level N fires no sooner than level N−1's firing plus the planned gap between the two
 *   (plannedDue(N) − plannedDue(N−1)).
 *
 * On time, the third point changes nothing (the previous level fired at its deadline). After an
 * outage longer than the acknowledgement window (worker down, Redis lost its jobs, PostgreSQL away),
 * it keeps the chain's spacing instead of sending supervisor, duty officer and Dirección the same
 * minute: each recipient gets the time the PSO gives them to act before the next one is told.
 */
export function levelReadiness(
  plan: readonly PlannedLevel[],
  level: number,
  firedAt: ReadonlyMap<number, Date>,
  now: Date,
): LevelReadiness | null {
  const chain = [...plan].sort((a, b) => a.level - b.level);
  const i = chain.findIndex((l) => l.level === level);
  if (i < 0) return null;
  const planned = new Date(chain[i].dueAt);
  let dueAt = planned;
  if (i > 0) {
    const previous = chain[i - 1];
    const gap = planned.getTime() - new Date(previous.dueAt).getTime();
    const previousAt = firedAt.get(previous.level);
    if (!previousAt) {
      return {
        ready: false,
        notBefore: new Date(Math.max(planned.getTime(), now.getTime() + gap)),
        waitingFor: previous.level,
      };
    }
    dueAt = new Date(Math.max(planned.getTime(), previousAt.getTime() + gap));
  }
  return now.getTime() >= dueAt.getTime()
    ? { ready: true, dueAt }
    : { ready: false, notBefore: dueAt, waitingFor: null };
}

/** The lowest level of the plan that has not fired, or null when the whole chain has. */
export function nextLevel(plan: readonly PlannedLevel[], fired: ReadonlySet<number>): number | null {
  const open = plan.map((l) => l.level).filter((l) => !fired.has(l));
  return open.length ? Math.min(...open) : null;
}
