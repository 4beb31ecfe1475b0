import { randomBytes } from 'crypto';
import { AccountDefinition } from '../../dissemination/src/accounts/accounts.catalog';

/**
 * Random credentials for every account, in the shape dissemination imports (ACCOUNT_CREDENTIALS_FILE)
 * and the sandboxes check (SANDBOX_CREDENTIALS_FILE). Only ever for the sandboxes.
 */
export function generateSandboxCredentials(
  accounts: Pick<AccountDefinition, 'id' | 'platform'>[],
  partnerBaseUrl: string,
  keyPrefix = 'dev',
): Record<string, Record<string, string>> {
  const hex = (n = 16) => randomBytes(n).toString('hex');
  const consumer = { consumerKey: `${keyPrefix}-${hex(6)}`, consumerSecret: hex() };
  const out: Record<string, Record<string, string>> = {};
  accounts.forEach((a, i) => {
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
      out[a.id] = { url: `${partnerBaseUrl}/hooks/${a.id}`, secret: hex() };
    }
  });
  return out;
}
