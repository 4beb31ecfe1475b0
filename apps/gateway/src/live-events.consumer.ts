import { envelopeSchema, logicalTopic, physicalTopic } from '@alerta-rosa/contracts';
import { randomBytes } from 'crypto';
import { Consumer, Kafka } from 'kafkajs';
import { hostname } from 'os';
import type { Logger } from 'pino';
import { LIVE_TOPICS, LiveEvent, LiveTopic, toLiveEvent } from './live-event';

export interface LiveConsumerStatus {
  state: 'starting' | 'running' | 'recovering' | 'closed';
  since: string;
  topics: string[];
  missingTopics: string[];
}

/**
 * The gateway's own Kafka consumer, feeding the open pages. A group per process (every replica must
 * see every event), starting at the latest offsets and never committing: it is a live push, and a page
 * refetches on (re)connect, so nothing needs to be resumed. Topics that do not exist yet (tracking.v1
 * before the tracker creates it) are looked for again every `recheckMs` and joined when they appear. A
 * consumer kafkajs gives up on is replaced, with capped backoff.
 */
export class LiveEventsConsumer {
  private consumer: Consumer | null = null;
  private subscribed: string[] = [];
  private missing: string[] = [...LIVE_TOPICS];
  private state: LiveConsumerStatus['state'] = 'starting';
  private since = new Date();
  private recheck: NodeJS.Timeout | null = null;
  private stopping = false;
  private restarts = 0;
  readonly groupId: string;

  constructor(
    private readonly kafka: Kafka,
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly onEvent: (event: LiveEvent) => void,
    private readonly recheckMs: number,
  ) {
    const instance = `${hostname()}.${process.pid}.${randomBytes(3).toString('hex')}`;
    this.groupId = `${prefix ? `${prefix}.` : ''}alerta-rosa.gateway.${instance}`;
  }

  status(): LiveConsumerStatus {
    return {
      state: this.state,
      since: this.since.toISOString(),
      topics: this.subscribed,
      missingTopics: this.missing,
    };
  }

  async start(): Promise<void> {
    await this.connect();
    this.recheck = setInterval(() => void this.joinNewTopics(), this.recheckMs);
    this.recheck.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.recheck) clearInterval(this.recheck);
    this.setState('closed');
    await this.consumer?.disconnect().catch(() => undefined);
  }

  private setState(state: LiveConsumerStatus['state']): void {
    if (this.state !== state) this.since = new Date();
    this.state = state;
  }

  private async existingTopics(): Promise<string[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const all = new Set(await admin.listTopics());
      return LIVE_TOPICS.map((t) => physicalTopic(this.prefix, t)).filter((t) => all.has(t));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async connect(): Promise<void> {
    const topics = await this.existingTopics();
    this.subscribed = topics;
    this.missing = LIVE_TOPICS.filter((t) => !topics.includes(physicalTopic(this.prefix, t)));
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 100,
      retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 10 },
    });
    this.consumer = consumer;
    const joined = new Promise<void>((resolve) => {
      const off = consumer.on(consumer.events.GROUP_JOIN, () => {
        off();
        resolve();
      });
    });
    consumer.on(consumer.events.CRASH, (e) => {
      const { error, restart } = e.payload as { error: Error; restart: boolean };
      this.logger.warn({ error: error?.message, restart }, 'live consumer crashed');
      if (!restart && !this.stopping && consumer === this.consumer) void this.replace();
    });
    await consumer.connect();
    if (topics.length) {
      // fromBeginning false + a new group that never commits = the latest offsets at assignment.
      await consumer.subscribe({ topics, fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: 4,
        eachMessage: async ({ topic, message }) => this.handle(topic, message.value),
      });
      await Promise.race([joined, new Promise((r) => setTimeout(r, 30_000).unref())]);
    }
    this.setState('running');
    this.restarts = 0;
    this.logger.info({ topics, missing: this.missing, groupId: this.groupId }, 'live consumer running');
  }

  private handle(physical: string, value: Buffer | null): void {
    if (!value) return;
    const logical = logicalTopic(this.prefix, physical) as LiveTopic | undefined;
    if (!logical || !(LIVE_TOPICS as readonly string[]).includes(logical)) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value.toString('utf8'));
    } catch {
      return; // the services dead-letter what they cannot read; a page has nothing to refetch for it
    }
    const envelope = envelopeSchema.safeParse(parsed);
    if (!envelope.success) return;
    this.onEvent(toLiveEvent(logical, envelope.data as never));
  }

  /** A topic that appeared since (tracking.v1 once the tracker runs): a new consumer with every topic. */
  private async joinNewTopics(): Promise<void> {
    if (this.stopping || this.state !== 'running' || !this.missing.length) return;
    try {
      const now = await this.existingTopics();
      if (now.length === this.subscribed.length) return;
      this.logger.info({ topics: now }, 'live consumer: new topics, re-joining');
      await this.replace();
    } catch (err) {
      this.logger.warn({ error: (err as Error).message }, 'live consumer: topic check failed');
    }
  }

  private async replace(): Promise<void> {
    if (this.stopping) return;
    this.setState('recovering');
    const old = this.consumer;
    this.consumer = null;
    await old?.disconnect().catch(() => undefined);
    for (;;) {
      if (this.stopping) return;
      try {
        await this.connect();
        return;
      } catch (err) {
        this.restarts++;
        const delay = Math.min(500 * 2 ** this.restarts, 5_000);
        this.logger.warn({ error: (err as Error).message, delay }, 'live consumer: start failed, retrying');
        const failed = this.consumer as Consumer | null;
        await failed?.disconnect().catch(() => undefined);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
