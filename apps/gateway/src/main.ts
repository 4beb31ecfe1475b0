import { AccessTokenVerifier } from '@alerta-rosa/auth';
import { loadConfigOrExit } from '@alerta-rosa/config';
import { createKafka } from '@alerta-rosa/messaging';
import { createLogger } from '@alerta-rosa/observability';
import { gatewayConfigSchema } from './gateway.config';
import { createGatewayServer } from './gateway.server';
import { LiveEventsConsumer } from './live-events.consumer';
import { LiveEventsHub } from './live-events.hub';
import { StreamTickets } from './stream-ticket';

async function main(): Promise<void> {
  const config = loadConfigOrExit('gateway', gatewayConfigSchema);
  const logger = createLogger('gateway', config.LOG_LEVEL);
  process.on('unhandledRejection', (err) => logger.error({ err: String(err) }, 'unhandled rejection'));

  const hub = new LiveEventsHub(
    logger.child({ component: 'streams' }),
    config.SSE_PING_MS,
    config.SSE_MAX_BUFFERED_BYTES,
  );
  const kafka = createKafka('alerta-rosa-gateway', config.KAFKA_BROKERS, logger);
  const consumer = new LiveEventsConsumer(
    kafka,
    config.KAFKA_TOPIC_PREFIX,
    logger.child({ component: 'live-consumer' }),
    (event) => hub.publish(event),
    config.TOPIC_RECHECK_MS,
  );
  await consumer.start();

  const { server, close } = createGatewayServer({
    config,
    logger,
    hub,
    tickets: new StreamTickets(
      config.STREAM_TICKET_SECRET ?? config.AUTH_JWT_SECRET,
      config.STREAM_TICKET_TTL_SECONDS,
    ),
    verifier: new AccessTokenVerifier(config.AUTH_JWT_SECRET),
    consumerStatus: () => consumer.status(),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  logger.info({ url: `http://${config.HOST}:${config.PORT}`, pid: process.pid }, 'gateway ready');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'gateway stopping');
    server.close();
    hub.closeAll();
    server.closeIdleConnections();
    await consumer.stop();
    close();
    logger.info('gateway stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: Error) => {
  process.stderr.write(`gateway: failed to start: ${err.message}\n`);
  process.exit(1);
});
