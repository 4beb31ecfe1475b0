import { encodeEvent } from '@alerta-rosa/contracts';
import pino from 'pino';
import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { sampleActivation } from '../../../../test/support/sample-events';
import { KafkaInboxServer } from './kafka-inbox.server';

/**
 * kafkajs stops a consumer for good after errors it deems final, some of which a plain broker restart
 * produces (seen in kafka-outage.test.ts: "Failed to find group coordinator" while the broker shut
 * down). The crash event cannot be provoked on demand on a real broker, so this drives the recovery
 * logic with a stand-in for the kafkajs client; the real-broker path is covered by kafka-outage.test.ts.
 */
class FakeConsumer {
  readonly events = { CRASH: 'consumer.crash' };
  private crashListener: ((e: { payload: { error: Error; restart: boolean } }) => void) | null = null;
  running = false;
  disconnected = false;
  eachBatch: ((payload: EachBatchPayload) => Promise<void>) | null = null;
  constructor(private readonly failConnect: boolean) {}
  on(event: string, listener: (e: { payload: { error: Error; restart: boolean } }) => void) {
    if (event === this.events.CRASH) this.crashListener = listener;
  }
  async connect() {
    if (this.failConnect) throw new Error('Connection error: connect ECONNREFUSED');
  }
  async subscribe() {}
  async run(options: { eachBatch: (payload: EachBatchPayload) => Promise<void> }) {
    this.running = true;
    this.eachBatch = options.eachBatch;
  }
  async disconnect() {
    this.running = false;
    this.disconnected = true;
  }
  crash(restart: boolean) {
    this.running = false;
    this.crashListener?.({ payload: { error: new Error('Failed to find group coordinator'), restart } });
  }
}

function fakeKafka(connectFailures: number) {
  const consumers: FakeConsumer[] = [];
  let failuresLeft = 0;
  const kafka = {
    producer: () => ({ connect: async () => undefined, disconnect: async () => undefined }),
    consumer: () => {
      const c = new FakeConsumer(consumers.length > 0 && failuresLeft-- > 0);
      consumers.push(c);
      return c;
    },
  };
  return {
    kafka: kafka as unknown as Kafka,
    consumers,
    failNextConnects: () => (failuresLeft = connectFailures),
  };
}

async function startServer(kafka: Kafka, dataSource = {} as DataSource): Promise<KafkaInboxServer> {
  const server = new KafkaInboxServer({
    kafka,
    groupId: 'probe',
    topicPrefix: 'unit',
    topics: ['alerts.v1'],
    dataSource,
    schema: 'probe',
    logger: pino({ level: 'silent' }),
    maxAttempts: 3,
    retryBackoffMs: 10,
  });
  server.addHandler('alerts.v1', async () => undefined, true);
  await new Promise<void>((resolve, reject) => server.listen((err) => (err ? reject(err) : resolve())));
  return server;
}

describe('KafkaInboxServer when kafkajs gives up on its consumer', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  const settle = async (ms: number) => {
    await jest.advanceTimersByTimeAsync(ms);
  };

  it('starts a new consumer after a crash kafkajs will not restart', async () => {
    const { kafka, consumers } = fakeKafka(0);
    const server = await startServer(kafka);
    expect(consumers).toHaveLength(1);
    expect(server.consumerStatus().state).toBe('running');
    consumers[0].crash(false);
    expect(server.consumerStatus().state).toBe('recovering');
    await settle(600);
    expect(consumers).toHaveLength(2);
    expect(server.consumerStatus().state).toBe('running');
    expect(consumers[0].disconnected).toBe(true);
    expect(consumers[1].running).toBe(true);
    await server.close();
  });

  it('leaves crashes kafkajs restarts itself to kafkajs', async () => {
    const { kafka, consumers } = fakeKafka(0);
    const server = await startServer(kafka);
    consumers[0].crash(true);
    await settle(10_000);
    expect(consumers).toHaveLength(1);
    await server.close();
  });

  it('keeps trying, with capped backoff, while the broker is still away', async () => {
    const { kafka, consumers, failNextConnects } = fakeKafka(3);
    const server = await startServer(kafka);
    failNextConnects();
    consumers[0].crash(false);
    await settle(500); // first try fails
    expect(consumers).toHaveLength(2);
    await settle(1_000); // second
    await settle(2_000); // third
    expect(consumers).toHaveLength(4);
    expect(consumers.slice(0, 3).every((c) => !c.running)).toBe(true);
    await settle(4_000); // fourth succeeds
    expect(consumers).toHaveLength(5);
    expect(consumers[4].running).toBe(true);
    await server.close();
  });

  it('does not start another consumer once the server is closing', async () => {
    const { kafka, consumers } = fakeKafka(0);
    const server = await startServer(kafka);
    consumers[0].crash(false);
    await server.close();
    await settle(10_000);
    expect(consumers).toHaveLength(1);
  });
});

/**
 * The offset commit after a batch: while consuming, the batch ends without waiting for the commit's
 * answer (the next fetch starts from the resolved offsets, so five alerts deactivated together are not
 * taken in waves paced by commit round trips); when stopping, and on close, the commit is waited for,
 * so a graceful stop leaves nothing to redeliver. Driven with a stand-in for kafkajs (the real-broker
 * paths: inbox-consumer.test.ts, worker-crash.test.ts' SIGTERM case).
 */
describe('KafkaInboxServer offset commits', () => {
  const message = (offset: string): KafkaMessage =>
    ({
      offset,
      timestamp: String(Date.now()),
      key: null,
      headers: {},
      attributes: 0,
      value: Buffer.from(encodeEvent(sampleActivation())),
    }) as KafkaMessage;
  // Every inbox insert succeeds: the handler runs and the message counts as handled.
  const dataSource = {
    transaction: async (fn: (m: unknown) => Promise<void>) => fn({ query: async () => [{ event_id: 'x' }] }),
  } as unknown as DataSource;

  function batchPayload(running: () => boolean) {
    const answers: (() => void)[] = [];
    const commits: string[] = [];
    const payload = {
      batch: { topic: 'unit.alerts.v1', partition: 0, messages: [message('41'), message('42')] },
      resolveOffset: () => undefined,
      heartbeat: async () => undefined,
      pause: () => () => undefined,
      isRunning: running,
      isStale: () => false,
      commitOffsetsIfNecessary: (offsets: { topics: { partitions: { offset: string }[] }[] }) => {
        commits.push(offsets.topics[0].partitions[0].offset);
        return new Promise<void>((resolve) => answers.push(resolve));
      },
    } as unknown as EachBatchPayload;
    return { payload, commits, answer: () => answers.forEach((a) => a()) };
  }

  const ended = async (p: Promise<unknown>) => {
    let done = false;
    void p.then(() => (done = true));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    return done;
  };

  it('ends a batch without waiting for its commit while consuming, and waits for it on close', async () => {
    const { kafka, consumers } = fakeKafka(0);
    const server = await startServer(kafka, dataSource);
    const b = batchPayload(() => true);
    expect(await ended(consumers[0].eachBatch!(b.payload))).toBe(true);
    expect(b.commits).toEqual(['43']);
    const closing = server.close();
    expect(await ended(closing)).toBe(false); // the commit sent is still unanswered
    b.answer();
    expect(await ended(closing)).toBe(true);
  });

  it('waits for the commit of a batch that ends while the consumer is stopping', async () => {
    const { kafka, consumers } = fakeKafka(0);
    const server = await startServer(kafka, dataSource);
    const b = batchPayload(() => b.commits.length === 0); // stopping once the batch is handled
    const batch = consumers[0].eachBatch!(b.payload);
    expect(await ended(batch)).toBe(false);
    expect(b.commits).toEqual(['43']);
    b.answer();
    expect(await ended(batch)).toBe(true);
    await server.close();
  });
});
