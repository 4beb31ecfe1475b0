import { existsSync, writeFileSync } from 'fs';
import { loadAccountsCatalog } from '../../dissemination/src/accounts/accounts.catalog';
import { generateSandboxCredentials } from './sandbox-credentials';

/**
 * Writes random credentials for every account of config/accounts.yaml, for the local sandboxes
 * (`npm run up`): the same file is imported by dissemination (ACCOUNT_CREDENTIALS_FILE) and read by the
 * sandboxes (SANDBOX_CREDENTIALS_FILE). Never used with the real platforms.
 * Usage: dev-credentials.cli.js <file> [partnerSandboxBaseUrl]
 */
function main(): void {
  const [file, partnerBase = 'http://127.0.0.1:4300'] = process.argv.slice(2);
  if (!file) throw new Error('usage: dev-credentials.cli.js <file> [partnerSandboxBaseUrl]');
  if (existsSync(file)) return;
  const out = generateSandboxCredentials(loadAccountsCatalog().accounts, partnerBase);
  writeFileSync(file, JSON.stringify(out, null, 2), { mode: 0o600 });
  process.stdout.write(`sandbox credentials written to ${file}\n`);
}

main();
