import { MigrationInterface, QueryRunner } from 'typeorm';

/** Alert projection, PSO tasks, escalations, mails and used acknowledge links. */
export class CoordinationTasks1764400000005 implements MigrationInterface {
  name = 'CoordinationTasks1764400000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE coordination.alerts (
        alert_id        uuid PRIMARY KEY,
        folio           text NOT NULL,
        version         integer NOT NULL,
        status          text NOT NULL CHECK (status IN ('active', 'deactivated')),
        ficha           jsonb NOT NULL,
        reported_at     timestamptz NOT NULL,
        activated_at    timestamptz NOT NULL,
        deactivated_at  timestamptz,
        outcome         text,
        pso_version     text NOT NULL,
        region_id       text NOT NULL,
        minor           boolean NOT NULL,
        mujer_segura    boolean NOT NULL,
        progress_seq    integer NOT NULL DEFAULT 1,
        progress_enqueued boolean NOT NULL DEFAULT false,
        updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`
      CREATE TABLE coordination.tasks (
        id              uuid PRIMARY KEY,
        alert_id        uuid NOT NULL REFERENCES coordination.alerts (alert_id),
        step_id         text NOT NULL,
        step_order      integer NOT NULL,
        pso_version     text NOT NULL,
        area_id         text NOT NULL,
        area_name       text NOT NULL,
        title           text NOT NULL,
        instructions    text NOT NULL,
        state           text NOT NULL CHECK (state IN ('assigned', 'acknowledged', 'in_progress', 'done', 'cancelled')),
        ack_due_at      timestamptz NOT NULL,
        complete_due_at timestamptz NOT NULL,
        escalation_plan jsonb NOT NULL,
        acknowledged_at timestamptz,
        acknowledged_via text,
        acknowledged_by text,
        started_at      timestamptz,
        completed_at    timestamptz,
        completed_by    text,
        cancelled_at    timestamptz,
        cancel_reason   text,
        mail_status     text NOT NULL DEFAULT 'pending' CHECK (mail_status IN ('pending', 'sent', 'failed')),
        mail_error      text,
        timers          text NOT NULL DEFAULT 'to_schedule' CHECK (timers IN ('to_schedule', 'scheduled', 'to_clear', 'cleared')),
        created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT tasks_alert_step_key UNIQUE (alert_id, step_id)
      )`);
    await q.query(`CREATE INDEX tasks_area_idx ON coordination.tasks (area_id, created_at)`);
    await q.query(
      `CREATE INDEX tasks_timers_idx ON coordination.tasks (id) WHERE timers IN ('to_schedule', 'to_clear')`,
    );
    await q.query(`
      CREATE TABLE coordination.task_notes (
        id          uuid PRIMARY KEY,
        task_id     uuid NOT NULL REFERENCES coordination.tasks (id),
        author_id   text NOT NULL,
        body        text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX task_notes_task_idx ON coordination.task_notes (task_id, created_at)`);
    // The real guard of "each level exactly once": a second firing of a level cannot insert.
    await q.query(`
      CREATE TABLE coordination.escalations (
        task_id       uuid NOT NULL REFERENCES coordination.tasks (id),
        level         integer NOT NULL,
        target        text NOT NULL,
        recipients    text[] NOT NULL,
        due_at        timestamptz NOT NULL,
        -- when the timer job started (timer accuracy), and when the escalation was recorded
        fired_at      timestamptz NOT NULL,
        escalated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (task_id, level)
      )`);
    // Every mail is written here in the transaction that decides it (deterministic id), then handed
    // to the BullMQ mail queue with that id as job id.
    await q.query(`
      CREATE TABLE coordination.mails (
        id          text PRIMARY KEY,
        kind        text NOT NULL,
        alert_id    uuid NOT NULL,
        task_id     uuid,
        area_id     text NOT NULL,
        recipients  text[] NOT NULL,
        subject     text NOT NULL,
        text_body   text NOT NULL,
        html_body   text NOT NULL,
        photo_url   text,
        status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
        attempts    integer NOT NULL DEFAULT 0,
        last_error  text,
        message_id  text,
        enqueued_at timestamptz,
        created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        sent_at     timestamptz,
        failed_at   timestamptz
      )`);
    await q.query(
      `CREATE INDEX mails_to_enqueue_idx ON coordination.mails (created_at) WHERE enqueued_at IS NULL`,
    );
    await q.query(`CREATE INDEX mails_alert_idx ON coordination.mails (alert_id)`);
    await q.query(`
      CREATE TABLE coordination.ack_link_uses (
        nonce     text PRIMARY KEY,
        task_id   uuid NOT NULL REFERENCES coordination.tasks (id),
        used_at   timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['ack_link_uses', 'mails', 'escalations', 'task_notes', 'tasks', 'alerts']) {
      await q.query(`DROP TABLE IF EXISTS coordination.${t}`);
    }
  }
}
