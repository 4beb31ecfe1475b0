import { execFile } from 'child_process';
import { randomBytes } from 'crypto';
import { rm } from 'fs/promises';
import { join } from 'path';
import { promisify } from 'util';
import { freePort } from './stack';

const run = promisify(execFile);
const SCRIPT = join(__dirname, '../../infra/kafka/kafka.sh');

/**
 * A second, private Kafka broker for tests that stop and restart the broker, so the shared one
 * that other test files use is never disturbed. Same launcher as development and CI.
 */
export class PrivateKafka {
  private constructor(
    readonly port: number,
    private readonly controllerPort: number,
    private readonly dataDir: string,
  ) {}

  static async create(): Promise<PrivateKafka> {
    const dataDir = join(process.env.TMPDIR ?? '/tmp', `ar-kafka-${randomBytes(4).toString('hex')}`);
    const kafka = new PrivateKafka(await freePort(), await freePort(), dataDir);
    await kafka.start();
    return kafka;
  }

  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  private get env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      KAFKA_PORT: String(this.port),
      KAFKA_CONTROLLER_PORT: String(this.controllerPort),
      KAFKA_DATA_DIR: this.dataDir,
      KAFKA_HEAP: '512m',
    };
  }

  async start(): Promise<void> {
    await run('bash', [SCRIPT, 'start'], { env: this.env, timeout: 120_000 });
  }

  async stop(): Promise<void> {
    await run('bash', [SCRIPT, 'stop'], { env: this.env, timeout: 60_000 });
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
