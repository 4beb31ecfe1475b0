import {
  ALERT_EVENT_TYPES,
  AlertOutcome,
  Envelope,
  PUBLICATION_EVENT_TYPES,
  Producer as ProducerName,
  RECEIPT_EVENT_TYPE,
  TASK_EVENT_TYPES,
  TOPICS,
  createEnvelope,
  encodeEvent,
  newId,
} from '@alerta-rosa/contracts';
import { Kafka, Producer } from 'kafkajs';

/**
 * A scripted alert life as the other services would report it: every event a valid envelope with the
 * times the script says, so committee figures can be checked against values computed by hand. Times are
 * minutes after the alert's activation.
 */
export interface AccountScript {
  accountId: string;
  platform: 'x' | 'facebook' | 'webhook';
  handle: string;
  /** Minutes after activation the activation post succeeded; null = it failed. */
  postedAfterMin: number | null;
  /** Minutes after deactivation the photo post was withdrawn; null = never (still up). */
  withdrawnAfterMin?: number | null;
}

export interface TaskScript {
  areaId: string;
  areaName: string;
  stepId: string;
  /** Acknowledgement deadline, minutes after activation. */
  ackDueMin: number;
  ackAfterMin: number | null;
  completedAfterMin?: number | null;
  /** Escalations fired (levels 1..n). */
  escalations?: number;
}

export interface AlertScript {
  alertId?: string;
  folio: string;
  activatedAt: Date;
  /** Reported this many minutes before activation. */
  reportedBeforeMin: number;
  municipalityCode: string;
  municipalityName: string;
  age?: number;
  activatingBody?: string;
  photo?: boolean;
  updates?: number;
  /** null = still active. */
  outcome: AlertOutcome | null;
  deactivatedAfterMin?: number;
  accounts: AccountScript[];
  tasks: TaskScript[];
  /** Dissemination confirms the withdrawal this many minutes after deactivation (null = never). */
  withdrawalCompletedAfterMin?: number | null;
  /** Coordination's receipt of the deactivation, minutes after it. */
  coordinationReceiptAfterMin?: number;
}

export interface ScriptedEvents {
  alertId: string;
  byTopic: Record<string, Envelope[]>;
}

const MIN = 60_000;

export function scriptAlert(s: AlertScript): ScriptedEvents {
  const alertId = s.alertId ?? newId();
  const at = (min: number) => new Date(s.activatedAt.getTime() + min * MIN);
  const alerts: Envelope[] = [];
  const publications: Envelope[] = [];
  const tasks: Envelope[] = [];
  const env = (type: string, producer: ProducerName, occurredAt: Date, payload: unknown, cause?: Envelope) =>
    createEnvelope({ type, alertId, producer, occurredAt, payload, cause });
  const receipt = (e: Envelope, consumer: 'dissemination' | 'coordination', afterMin: number) => {
    const r = env(
      RECEIPT_EVENT_TYPE,
      consumer,
      new Date(new Date(e.occurredAt).getTime() + afterMin * MIN),
      {
        consumer: `alerta-rosa.${consumer}`,
        receivedEventId: e.eventId,
        receivedType: e.type,
        alertVersion: (e.payload as { version?: number }).version ?? null,
      },
      e,
    );
    (consumer === 'dissemination' ? publications : tasks).push(r);
  };
  const ficha = {
    fullName: 'Persona Sintética',
    age: s.age ?? 25,
    municipalityCode: s.municipalityCode,
    municipalityName: s.municipalityName,
    lastSeenAt: new Date(s.activatedAt.getTime() - (s.reportedBeforeMin + 60) * MIN).toISOString(),
    lastSeenPlace: null,
    description: null,
    isMinor: (s.age ?? 25) < 18,
    activatingBody: s.activatingBody ?? 'SSP',
    photoConsent: s.photo ?? true,
    photoUrl: s.photo === false ? null : 'https://example.test/foto.jpg',
  };
  let version = 1;
  const activated = env(ALERT_EVENT_TYPES.activated, 'intake', s.activatedAt, {
    folio: s.folio,
    version,
    reportedAt: at(-s.reportedBeforeMin).toISOString(),
    activatedAt: s.activatedAt.toISOString(),
    ficha,
  });
  alerts.push(activated);
  receipt(activated, 'dissemination', 0);
  receipt(activated, 'coordination', 0);
  const publicationIds = new Map<string, string>();
  for (const a of s.accounts) {
    const id = newId();
    publicationIds.set(a.accountId, id);
    const ref = {
      publicationId: id,
      accountId: a.accountId,
      platform: a.platform,
      handle: a.handle,
      kind: 'activation',
      alertVersion: 1,
      folio: s.folio,
    };
    if (a.postedAfterMin === null) {
      publications.push(
        env(PUBLICATION_EVENT_TYPES.failed, 'dissemination', at(1), {
          ...ref,
          reason: 'exhausted',
          error: 'HTTP 503',
          attempts: 5,
          failedAt: at(1).toISOString(),
        }),
      );
    } else {
      publications.push(
        env(PUBLICATION_EVENT_TYPES.succeeded, 'dissemination', at(a.postedAfterMin), {
          ...ref,
          remoteId: `r-${id}`,
          remoteUrl: null,
          withImage: s.photo ?? true,
          postedAt: at(a.postedAfterMin).toISOString(),
          attempts: 1,
          recovered: false,
        }),
      );
    }
  }
  const taskIds = s.tasks.map(() => newId());
  s.tasks.forEach((t, i) => {
    const ref = { taskId: taskIds[i], folio: s.folio, stepId: t.stepId, areaId: t.areaId };
    tasks.push(
      env(TASK_EVENT_TYPES.assigned, 'coordination', s.activatedAt, {
        ...ref,
        psoVersion: '2018.1',
        areaName: t.areaName,
        title: 'Tarea',
        ackDueAt: at(t.ackDueMin).toISOString(),
        completeDueAt: at(t.ackDueMin * 6).toISOString(),
      }),
    );
    tasks.push(
      env(TASK_EVENT_TYPES.mailSent, 'coordination', s.activatedAt, {
        mailId: `assignment-${taskIds[i]}`,
        kind: 'assignment',
        folio: s.folio,
        areaId: t.areaId,
        taskId: taskIds[i],
        attempts: 1,
        sentAt: s.activatedAt.toISOString(),
      }),
    );
    for (let level = 1; level <= (t.escalations ?? 0); level++) {
      tasks.push(
        env(TASK_EVENT_TYPES.escalated, 'coordination', at(t.ackDueMin + (level - 1) * 10), {
          ...ref,
          level,
          target: (['area_supervisor', 'duty_officer', 'direccion'] as const)[level - 1],
          deadlineAt: at(t.ackDueMin).toISOString(),
          escalatedAt: at(t.ackDueMin + (level - 1) * 10).toISOString(),
        }),
      );
    }
    if (t.ackAfterMin !== null) {
      tasks.push(
        env(TASK_EVENT_TYPES.acknowledged, 'coordination', at(t.ackAfterMin), {
          ...ref,
          acknowledgedAt: at(t.ackAfterMin).toISOString(),
          via: 'api',
          userId: 'u',
        }),
      );
    }
    if (t.completedAfterMin !== null && t.completedAfterMin !== undefined) {
      tasks.push(
        env(TASK_EVENT_TYPES.completed, 'coordination', at(t.completedAfterMin), {
          ...ref,
          completedAt: at(t.completedAfterMin).toISOString(),
          userId: 'u',
        }),
      );
    }
  });
  for (let u = 0; u < (s.updates ?? 0); u++) {
    version++;
    const updated = env(ALERT_EVENT_TYPES.updated, 'intake', at(5 + u), {
      folio: s.folio,
      version,
      changedFields: ['description'],
      ficha: { ...ficha, description: `Actualización ${u + 1}` },
    });
    alerts.push(updated);
    receipt(updated, 'dissemination', 0);
    receipt(updated, 'coordination', 0);
  }
  if (s.outcome !== null) {
    version++;
    const d = s.deactivatedAfterMin!;
    const deactivatedAt = at(d);
    const deactivated = env(ALERT_EVENT_TYPES.deactivated, 'intake', deactivatedAt, {
      folio: s.folio,
      version,
      outcome: s.outcome,
      deactivatedAt: deactivatedAt.toISOString(),
    });
    alerts.push(deactivated);
    receipt(deactivated, 'dissemination', 0);
    // Coordination cancels what is still open at the deactivation's time, then its receipt follows.
    s.tasks.forEach((t, i) => {
      const done =
        t.completedAfterMin !== null && t.completedAfterMin !== undefined && t.completedAfterMin <= d;
      if (!done) {
        tasks.push(
          env(TASK_EVENT_TYPES.cancelled, 'coordination', deactivatedAt, {
            taskId: taskIds[i],
            folio: s.folio,
            stepId: t.stepId,
            areaId: t.areaId,
            cancelledAt: deactivatedAt.toISOString(),
            reason: 'alert_deactivated',
          }),
        );
      }
    });
    receipt(deactivated, 'coordination', s.coordinationReceiptAfterMin ?? 0);
    for (const a of s.accounts) {
      if (a.postedAfterMin === null || !(s.photo ?? true)) continue;
      if (a.withdrawnAfterMin === null || a.withdrawnAfterMin === undefined) continue;
      publications.push(
        env(PUBLICATION_EVENT_TYPES.withdrawn, 'dissemination', at(d + a.withdrawnAfterMin), {
          publicationId: publicationIds.get(a.accountId)!,
          accountId: a.accountId,
          platform: a.platform,
          handle: a.handle,
          kind: 'activation',
          alertVersion: 1,
          folio: s.folio,
          remoteId: `r-${publicationIds.get(a.accountId)}`,
          withdrawnAt: at(d + a.withdrawnAfterMin).toISOString(),
        }),
      );
    }
    const wc = s.withdrawalCompletedAfterMin;
    if (wc !== null && wc !== undefined) {
      publications.push(
        env(PUBLICATION_EVENT_TYPES.withdrawalCompleted, 'dissemination', at(d + wc), {
          folio: s.folio,
          outcome: s.outcome,
          accounts: s.accounts.length,
          postsWithdrawn: s.accounts.filter((a) => a.postedAfterMin !== null && a.withdrawnAfterMin != null)
            .length,
          requestedAt: deactivatedAt.toISOString(),
          completedAt: at(d + wc).toISOString(),
        }),
      );
    }
  }
  return {
    alertId,
    byTopic: { [TOPICS.alerts]: alerts, [TOPICS.publications]: publications, [TOPICS.tasks]: tasks },
  };
}

/** Writes scripted events to the stack's topics (keyed by alert, each topic in script order). */
export class ScriptedEventProducer {
  private producer: Producer | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly physical: (logical: string) => string,
  ) {}

  async connect(): Promise<void> {
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: 1 });
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer?.disconnect();
  }

  async send(scripts: ScriptedEvents[], chunk = 2_000): Promise<number> {
    let sent = 0;
    for (const logical of [TOPICS.alerts, TOPICS.publications, TOPICS.tasks]) {
      const messages = scripts.flatMap((s) =>
        (s.byTopic[logical] ?? []).map((e) => ({ key: e.alertId, value: encodeEvent(e) })),
      );
      for (let i = 0; i < messages.length; i += chunk) {
        await this.producer!.send({
          topic: this.physical(logical),
          acks: -1,
          messages: messages.slice(i, i + chunk),
        });
      }
      sent += messages.length;
    }
    return sent;
  }

  /** Sends raw already-encoded messages again (to prove redelivery changes nothing). */
  async resend(topic: string, messages: { key: string; value: string }[]): Promise<void> {
    await this.producer!.send({ topic, acks: -1, messages });
  }
}
