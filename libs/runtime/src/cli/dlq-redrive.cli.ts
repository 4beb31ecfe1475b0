/**
 * Puts a service's dead-lettered events back, to be handled again by that service only:
 *   npm run dlq:redrive -- --service dissemination [--event <eventId>] [--again]
 * Reads DATABASE_URL, KAFKA_BROKERS and KAFKA_TOPIC_PREFIX like the services do.
 */
import { baseConfigSchema, loadConfigOrExit } from '@alerta-rosa/config';
import { PRODUCERS } from '@alerta-rosa/contracts';
import { createKafka, redriveDeadLetters } from '@alerta-rosa/messaging';
import { createLogger } from '@alerta-rosa/observability';
import { consumerGroupOf } from '../bootstrap';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function usage(message: string): never {
  process.stderr.write(
    `dlq:redrive: ${message}\nusage: npm run dlq:redrive -- --service <${PRODUCERS.join('|')}> [--event <eventId>] [--again]\n`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const service = arg('service');
  if (!service) usage('--service is required');
  if (!(PRODUCERS as readonly string[]).includes(service)) usage(`unknown service "${service}"`);
  const eventId = arg('event');
  if (eventId !== undefined && !/^[0-9a-f-]{36}$/i.test(eventId)) usage('--event must be an event id (UUID)');
  const config = loadConfigOrExit('dlq-redrive', baseConfigSchema);
  const logger = createLogger('dlq-redrive', 'warn');
  const result = await redriveDeadLetters({
    databaseUrl: config.DATABASE_URL,
    kafka: createKafka('alerta-rosa-dlq-redrive', config.KAFKA_BROKERS, logger),
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    schema: service,
    consumer: consumerGroupOf(service),
    eventId,
    again: process.argv.includes('--again'),
  });
  for (const r of result.redriven) {
    process.stdout.write(
      `redriven  dead letter ${r.id}  event ${r.eventId ?? '(undecodable)'}  ${r.topic}  was: ${r.error}\n`,
    );
  }
  if (result.withoutMessage.length) {
    process.stdout.write(
      `not redriven (recorded before dead letters kept their message; see the .dlq topic): ${result.withoutMessage.join(', ')}\n`,
    );
  }
  process.stdout.write(`${result.redriven.length} dead letter(s) put back for ${service}\n`);
  if (eventId && result.redriven.length === 0) process.exit(1);
}

main().catch((err: Error) => {
  process.stderr.write(`dlq:redrive: ${err.message}\n`);
  process.exit(1);
});
