import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { configFile } from '@alerta-rosa/config';
import { loadAccountsCatalog } from './accounts.catalog';

describe('accounts catalog (config/accounts.yaml)', () => {
  it('loads the 30 official accounts, every X username within X’s 15 characters', () => {
    const catalog = loadAccountsCatalog();
    expect(catalog.accounts).toHaveLength(30);
    const x = catalog.accounts.filter((a) => a.platform === 'x');
    expect(x.length).toBeGreaterThan(0);
    for (const a of x) expect(a.handle).toMatch(/^@[A-Za-z0-9_]{1,15}$/);
  });

  function withHandle(id: string, handle: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'accounts-'));
    const source = readFileSync(configFile('accounts.yaml'), 'utf8');
    const file = join(dir, 'accounts.yaml');
    const pattern = new RegExp(`(id: ${id},\\s*platform: \\w+,\\s*handle: )'[^']*'`);
    expect(source).toMatch(pattern);
    writeFileSync(file, source.replace(pattern, `$1'${handle}'`));
    return file;
  }

  it('refuses an X username longer than 15 characters, naming the field', () => {
    expect(() => loadAccountsCatalog(withHandle('ssp-x', '@SSPOaxacaVallesCentrales'))).toThrow(
      /usuario de X[\s\S]*accounts\[0\]\.handle/,
    );
  });

  it('refuses a Facebook page name with characters Facebook does not allow', () => {
    expect(() => loadAccountsCatalog(withHandle('ssp-fb', 'SSP Oaxaca!'))).toThrow(/página de Facebook/);
  });
});
