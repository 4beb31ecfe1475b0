import { existsSync } from 'fs';
import { dirname, join, resolve } from 'path';

/**
 * Locates a data file under the project's config/ folder, from source (ts) or from dist/ alike.
 * CONFIG_DIR overrides the search (deployments that mount configuration elsewhere).
 */
export function configFile(relative: string, from = __dirname): string {
  if (process.env.CONFIG_DIR) return resolve(process.env.CONFIG_DIR, relative);
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'config', relative);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`config file not found: config/${relative}`);
  }
}
