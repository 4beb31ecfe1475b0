import { randomBytes } from 'crypto';
import { TestStack, waitFor } from '../support/stack';

/**
 * kafkajs 2.2.4 is in maintenance and its CI only ran Kafka 2.4: prove the calls we rely on against
 * the broker we run (4.1.x) — admin, produce with acks=all, group join, manual commit, offset fetch.
 */
describe('kafkajs against the broker version we run', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.create();
  });

  afterAll(async () => {
    await stack?.teardown();
  });

  it('creates a topic, produces with acks=all, joins a group, commits and reads back the committed offsets', async () => {
    const topic = `${stack.topicPrefix}.compat-${randomBytes(3).toString('hex')}`;
    await stack.admin(async (admin) => {
      await admin.createTopics({
        topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0].partitions).toHaveLength(3);
    });

    const producer = stack.kafka.producer({ maxInFlightRequests: 1 });
    await producer.connect();
    const sent = await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 9 }, (_, i) => ({
        key: `k${i % 3}`,
        value: `m${i}`,
        headers: { n: String(i) },
      })),
    });
    await producer.disconnect();
    expect(sent.every((r) => r.errorCode === 0)).toBe(true);

    const groupId = `${stack.topicPrefix}.compat-group`;
    const consumer = stack.kafka.consumer({ groupId });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        await consumer.commitOffsets([
          { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
        ]);
        seen.push(message.value!.toString());
      },
    });
    await waitFor(async () => seen.length === 9, { what: 'nine messages' });
    await consumer.disconnect();

    const committed = await stack.admin((admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
    // A partition that got no message reports -1.
    const total = committed[0].partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    expect(total).toBe(9);
    expect(seen.sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']);
    const groups = await stack.admin((admin) => admin.describeGroups([groupId]));
    expect(groups.groups[0].groupId).toBe(groupId);
  });
});
