import { AlertStatus } from './alert.entity';
import { ALLOWED_FROM, AlertAction, assertTransition } from './alert.lifecycle';

const STATUSES: AlertStatus[] = ['draft', 'active', 'deactivated', 'closed', 'discarded'];

describe('alert lifecycle', () => {
  const allowed: Record<AlertAction, AlertStatus[]> = {
    activate: ['draft'],
    discard: ['draft'],
    update: ['draft', 'active'],
    deactivate: ['active'],
    close: ['deactivated'],
  };

  it.each(Object.keys(ALLOWED_FROM) as AlertAction[])('allows %s only from its source states', (action) => {
    for (const status of STATUSES) {
      const ok = allowed[action].includes(status);
      const run = () => assertTransition(status, action);
      if (ok) expect(run).not.toThrow();
      else
        expect(run).toThrow(
          expect.objectContaining({ response: expect.objectContaining({ code: 'INVALID_TRANSITION' }) }),
        );
    }
  });

  it('leaves closed and discarded alerts without any way out', () => {
    for (const action of Object.keys(ALLOWED_FROM) as AlertAction[]) {
      expect(() => assertTransition('closed', action)).toThrow();
      expect(() => assertTransition('discarded', action)).toThrow();
    }
  });
});
