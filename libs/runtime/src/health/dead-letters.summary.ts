import { DataSource } from 'typeorm';

export interface DeadLetterSummary {
  count: number;
  /** The most recent one (no error text or payload: /health is public). */
  latest: { consumer: string; topic: string; partition: number; offset: string; at: string } | null;
}

export interface DeadLetterCount {
  consumer: string;
  topic: string;
  count: number;
  /** Unix seconds of the most recent one. */
  latestAt: number;
}

/** What the service's dead_letters table holds: the total and the latest row. */
export async function deadLetterSummary(dataSource: DataSource, schema: string): Promise<DeadLetterSummary> {
  const [rows, latest] = await Promise.all([
    dataSource.query(`SELECT count(*)::int AS n FROM "${schema}".dead_letters`) as Promise<{ n: number }[]>,
    dataSource.query(
      `SELECT consumer, topic, kafka_partition, kafka_offset::text AS kafka_offset, dead_lettered_at
       FROM "${schema}".dead_letters ORDER BY id DESC LIMIT 1`,
    ) as Promise<
      {
        consumer: string;
        topic: string;
        kafka_partition: number;
        kafka_offset: string;
        dead_lettered_at: Date;
      }[]
    >,
  ]);
  const l = latest[0];
  return {
    count: rows[0]?.n ?? 0,
    latest: l
      ? {
          consumer: l.consumer,
          topic: l.topic,
          partition: l.kafka_partition,
          offset: l.kafka_offset,
          at: new Date(l.dead_lettered_at).toISOString(),
        }
      : null,
  };
}

/** Dead letters per consumer and topic. */
export async function deadLetterCounts(dataSource: DataSource, schema: string): Promise<DeadLetterCount[]> {
  const rows: { consumer: string; topic: string; n: number; latest: number }[] = await dataSource.query(
    `SELECT consumer, topic, count(*)::int AS n, extract(epoch FROM max(dead_lettered_at))::float8 AS latest
     FROM "${schema}".dead_letters GROUP BY consumer, topic`,
  );
  return rows.map((r) => ({ consumer: r.consumer, topic: r.topic, count: r.n, latestAt: r.latest }));
}
