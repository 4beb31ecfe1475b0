/**
 * Creates the first admin (or any admin) directly in the database, running intake's migrations first.
 *   npm run user:create-admin -- --username admin --name "Administración"
 * The password comes from ADMIN_PASSWORD, or is asked on the terminal (not echoed).
 */
import { baseConfigSchema, loadConfigOrExit } from '@alerta-rosa/config';
import { ensureDatabase, runMigrations, serviceDataSourceOptions } from '@alerta-rosa/database';
import { createInterface } from 'readline';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit.log';
import { INTAKE_ENTITIES, INTAKE_MIGRATIONS } from '../intake.module';
import { createUserSchema } from '../users/user.schemas';
import { UserService } from '../users/user.service';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function askPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0];
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  process.stdout.write('Contraseña del administrador: ');
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stdout.write('\n');
  return answer;
}

async function main(): Promise<void> {
  // Only the database settings matter here (no token secret needed to create a user).
  const config = loadConfigOrExit('create-admin', baseConfigSchema);
  const input = createUserSchema.safeParse({
    username: arg('username') ?? 'admin',
    displayName: arg('name') ?? 'Administración',
    role: 'admin',
    password: process.env.ADMIN_PASSWORD ?? (await askPassword()),
  });
  if (!input.success) {
    process.stderr.write(
      `create-admin: ${input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n`,
    );
    process.exit(2);
  }
  if (config.NODE_ENV !== 'production') await ensureDatabase(config.DATABASE_URL);
  const dataSource = new DataSource(
    serviceDataSourceOptions({
      url: config.DATABASE_URL,
      schema: 'intake',
      entities: INTAKE_ENTITIES,
      migrations: INTAKE_MIGRATIONS,
      poolSize: 2,
      applicationName: 'intake-create-admin',
    }),
  );
  await dataSource.initialize();
  try {
    await runMigrations(dataSource, 'intake');
    const users = new UserService(dataSource, new AuditLog(dataSource));
    const user = await dataSource.transaction((m) =>
      users.create(m, input.data, { id: null, role: null, areaId: null, ip: 'cli' }),
    );
    process.stdout.write(
      `${JSON.stringify({ created: { id: user.id, username: user.username, role: user.role } })}\n`,
    );
  } catch (err) {
    const body = (err as { getResponse?: () => { message?: string } }).getResponse?.();
    process.stderr.write(`create-admin: ${body?.message ?? (err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await dataSource.destroy();
  }
}

void main();
