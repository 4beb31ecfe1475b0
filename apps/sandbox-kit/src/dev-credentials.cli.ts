import { randomBytes } from 'crypto';
import { existsSync, writeFileSync } from 'fs';
import { loadAccountsCatalog } from '../../dissemination/src/accounts/accounts.catalog';

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
  const hex = (n = 16) => randomBytes(n).toString('hex');
  const consumer = { consumerKey: `dev-${hex(6)}`, consumerSecret: hex() };
  const out: Record<string, Record<string, string>> = {};
  loadAccountsCatalog().accounts.forEach((a, i) => {
    if (a.platform === 'x') {
      out[a.id] = {
        ...consumer,
        accessToken: `${1000 + i}-${hex(8)}`,
        accessSecret: hex(),
        userId: String(9_000_000 + i),
      };
    } else if (a.platform === 'facebook') {
      out[a.id] = { pageId: String(7_000_000 + i), pageAccessToken: `EAA${hex(20)}` };
    } else {
      out[a.id] = { url: `${partnerBase}/hooks/${a.id}`, secret: hex() };
    }
  });
  writeFileSync(file, JSON.stringify(out, null, 2), { mode: 0o600 });
  process.stdout.write(`sandbox credentials written to ${file}\n`);
}

main();
