import { levelReadiness, nextLevel } from './escalation.rule';

const T0 = Date.parse('2026-12-01T12:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
// Acknowledgement deadline at +10 min; supervisor at +0, duty officer at +10, Dirección at +20 after it.
const plan = [
  { level: 1, dueAt: at(10).toISOString() },
  { level: 2, dueAt: at(20).toISOString() },
  { level: 3, dueAt: at(30).toISOString() },
];

describe('escalation level readiness', () => {
  it('fires the first level at its deadline, not before', () => {
    expect(levelReadiness(plan, 1, new Map(), at(9.99))).toEqual({
      ready: false,
      notBefore: at(10),
      waitingFor: null,
    });
    expect(levelReadiness(plan, 1, new Map(), at(10))).toEqual({ ready: true, dueAt: at(10) });
  });

  it('fires a level on time when the previous one fired on time', () => {
    expect(levelReadiness(plan, 2, new Map([[1, at(10)]]), at(20))).toEqual({ ready: true, dueAt: at(20) });
  });

  it('never fires a level before the previous one, and estimates the earliest moment it could', () => {
    expect(levelReadiness(plan, 2, new Map(), at(45))).toEqual({
      ready: false,
      notBefore: at(55),
      waitingFor: 1,
    });
  });

  it('after an outage keeps the planned gap after the previous level instead of firing all at once', () => {
    // Everything is overdue at +45 min; level 1 fires then, level 2 ten minutes later, level 3 ten after.
    const fired = new Map([[1, at(45)]]);
    expect(levelReadiness(plan, 2, fired, at(45))).toEqual({
      ready: false,
      notBefore: at(55),
      waitingFor: null,
    });
    expect(levelReadiness(plan, 2, fired, at(55))).toEqual({ ready: true, dueAt: at(55) });
    fired.set(2, at(55.5));
    expect(levelReadiness(plan, 3, fired, at(65))).toMatchObject({ ready: false, notBefore: at(65.5) });
    expect(levelReadiness(plan, 3, fired, at(65.5))).toEqual({ ready: true, dueAt: at(65.5) });
  });

  it('a previous level that fired early never lets the next one fire before its own deadline', () => {
    expect(levelReadiness(plan, 2, new Map([[1, at(5)]]), at(15))).toMatchObject({
      ready: false,
      notBefore: at(20),
    });
  });

  it('knows no level outside the plan, and finds the next level to fire', () => {
    expect(levelReadiness(plan, 4, new Map(), at(100))).toBeNull();
    expect(nextLevel(plan, new Set())).toBe(1);
    expect(nextLevel(plan, new Set([1]))).toBe(2);
    expect(nextLevel(plan, new Set([1, 2, 3]))).toBeNull();
  });
});
