import { TOPICS } from '@alerta-rosa/contracts';
import { execFile } from 'child_process';
import { join } from 'path';
import { promisify } from 'util';
import { AlertEventProducer } from '../support/alert-events';
import { TestStack, waitFor } from '../support/stack';

const run = promisify(execFile);
const ROOT = join(__dirname, '../..');

/**
 * Issue 8, item 5: `npm run dlq:redrive -- --service S [--event ID]` puts a service's dead-lettered
 * events back once their cause is fixed, to that service only.
 */
describe('npm run dlq:redrive on a real service', () => {
  let stack: TestStack;
  let alerts: AlertEventProducer;

  beforeAll(async () => {
    stack = await TestStack.create();
    await stack.start('tracker');
    alerts = new AlertEventProducer(stack.kafka, stack.topic(TOPICS.alerts));
    await alerts.connect();
  });

  afterAll(async () => {
    await alerts?.disconnect();
    await stack?.teardown();
  });

  async function redrive(...args: string[]): Promise<{ stdout: string; code: number }> {
    try {
      const { stdout } = await run('npm', ['run', '--silent', 'dlq:redrive', '--', ...args], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: stack.databaseUrl,
          KAFKA_BROKERS: stack.brokers.join(','),
          KAFKA_TOPIC_PREFIX: stack.topicPrefix,
        },
      });
      return { stdout, code: 0 };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number };
      return { stdout: `${e.stdout ?? ''}${e.stderr ?? ''}`, code: e.code ?? 1 };
    }
  }

  it('puts a dead-lettered activation back once its cause is fixed; it reaches the timeline once', async () => {
    // A defect in the tracker's own data (stands for a bug shipped and then fixed): activations refused.
    await stack.query(
      `ALTER TABLE tracker.timeline_entries ADD CONSTRAINT refuse_activations CHECK (event_type <> 'AlertActivated') NOT VALID`,
    );
    const { alertId, eventId } = await alerts.activate();
    await waitFor(
      async () =>
        (await stack.query(`SELECT 1 FROM tracker.dead_letters WHERE event_id = $1`, [eventId])).length > 0,
      { timeoutMs: 60_000, what: 'the activation dead-lettered by the tracker' },
    );
    await stack.query(`ALTER TABLE tracker.timeline_entries DROP CONSTRAINT refuse_activations`);

    const bad = await redrive('--service', 'nobody');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/unknown service/);

    const first = await redrive('--service', 'tracker', '--event', eventId);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`event ${eventId}`);
    expect(first.stdout).toContain('1 dead letter(s) put back for tracker');
    await stack.timelineWhere(alertId, (entries) => entries.some((e) => e.type === 'AlertActivated'), 60_000);

    const second = await redrive('--service', 'tracker');
    expect(second.stdout).toContain('0 dead letter(s) put back');
    const rows = await stack.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tracker.timeline_entries WHERE event_id = $1`,
      [eventId],
    );
    expect(rows[0].n).toBe(1);
    const [dl] = await stack.query<{ redriven_at: Date | null; redrive_count: number }>(
      `SELECT redriven_at, redrive_count FROM tracker.dead_letters WHERE event_id = $1`,
      [eventId],
    );
    expect(dl.redrive_count).toBe(1);
    expect(dl.redriven_at).not.toBeNull();
  });
});
