import { parseConfig } from '@alerta-rosa/config';
import { coordinationConfigSchema } from './coordination.config';

const parse = (env: Record<string, string>) =>
  parseConfig(coordinationConfigSchema, { NODE_ENV: 'test', ...env });

describe('coordination configuration: reconciler and mail retries', () => {
  it('defaults to a 15 s sweep with 5 s of grace, mails reported delayed after 5 attempts, back-off capped at 60 s, a 15 s send lease', () => {
    const c = parse({});
    expect([c.RECONCILE_INTERVAL_MS, c.RECONCILE_GRACE_MS]).toEqual([15_000, 5_000]);
    expect([c.MAIL_DELAYED_AFTER_ATTEMPTS, c.MAIL_BACKOFF_MS, c.MAIL_BACKOFF_MAX_MS]).toEqual([
      5, 1_000, 60_000,
    ]);
    expect(c.MAIL_SEND_LEASE_MS).toBe(15_000);
  });

  it.each([
    ['RECONCILE_INTERVAL_MS', '0'],
    ['RECONCILE_INTERVAL_MS', 'soon'],
    ['RECONCILE_INTERVAL_MS', '3600000'],
    ['RECONCILE_GRACE_MS', '-1'],
    ['MAIL_DELAYED_AFTER_ATTEMPTS', '0'],
    ['MAIL_BACKOFF_MAX_MS', '50'],
    ['MAIL_SEND_LEASE_MS', '10'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => parse({ [name]: value })).toThrow(new RegExp(`^invalid configuration: .*${name}`));
  });

  it('refuses a back-off cap below the first back-off', () => {
    expect(() => parse({ MAIL_BACKOFF_MS: '5000', MAIL_BACKOFF_MAX_MS: '1000' })).toThrow(
      /MAIL_BACKOFF_MAX_MS: must not be smaller than MAIL_BACKOFF_MS/,
    );
  });
});
