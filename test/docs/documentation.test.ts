import { existsSync, readFileSync, readdirSync, statSync } from 'fs';
import { join, relative } from 'path';

/**
 * The README and docs/ say what to run and how to configure it; a newcomer trusts them. This keeps
 * them honest against the code (issue 8, item 10): every `npm run` script named exists, every
 * configuration variable named is one the code reads, every default a configuration table states is
 * the schema's default, and every error code the API can answer is documented.
 */
const ROOT = join(__dirname, '../..');

function walk(dir: string, keep: (p: string) => boolean, out: string[] = []): string[] {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (f === 'node_modules' || f === 'dist') continue;
    if (statSync(p).isDirectory()) walk(p, keep, out);
    else if (keep(p)) out.push(p);
  }
  return out;
}

const docFiles = [join(ROOT, 'README.md'), ...walk(join(ROOT, 'docs'), (p) => p.endsWith('.md'))];
const docs = docFiles.map((f) => ({ file: relative(ROOT, f), text: readFileSync(f, 'utf8') }));
const allDocs = docs.map((d) => d.text).join('\n');
const codeFiles = ['apps', 'libs', 'infra', 'test/support', 'test/bench']
  .map((d) => join(ROOT, d))
  .filter(existsSync)
  .flatMap((d) => walk(d, (p) => /\.(ts|tsx|js|sh|mjs)$/.test(p) && !p.endsWith('.spec.ts')));
const code =
  codeFiles.map((f) => readFileSync(f, 'utf8')).join('\n') + readFileSync(join(ROOT, '.ci/run'), 'utf8');

/** Every object schema a service validates its environment with, unwrapped from refinements. */
function configDefaults(): Map<string, unknown[]> {
  const defaults = new Map<string, unknown[]>();
  const schemaFiles = [
    join(ROOT, 'libs/config/src/config.loader.ts'),
    ...walk(join(ROOT, 'apps'), (p) => /[\\/]src[\\/][\w-]+\.config\.ts$/.test(p)),
  ];
  for (const file of schemaFiles) {
    const mod = require(file) as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod)) {
      if (!/ConfigSchema$/.test(name) || !value || typeof value !== 'object') continue;
      let t = value as { _zod: { def: any } };
      while (t._zod.def.type === 'pipe') t = t._zod.def.in;
      if (t._zod.def.type !== 'object') continue;
      for (const [key, field] of Object.entries<any>(t._zod.def.shape)) {
        let d = field._zod.def;
        let dv: unknown = undefined;
        while (d) {
          if (d.type === 'default') {
            dv = typeof d.defaultValue === 'function' ? d.defaultValue() : d.defaultValue;
            break;
          }
          const inner = d.innerType ?? d.in;
          if (!inner) break;
          d = inner._zod.def;
        }
        defaults.set(key, [...(defaults.get(key) ?? []), dv]);
      }
    }
  }
  return defaults;
}

describe('README and docs match the code', () => {
  it('names only npm scripts that exist', () => {
    const scripts = Object.keys(require(join(ROOT, 'package.json')).scripts);
    const named = new Set<string>();
    for (const d of docs)
      for (const m of d.text.matchAll(/npm run(?: --silent)? ([\w:.-]+)/g)) named.add(m[1]);
    const missing = [...named].filter((s) => !scripts.includes(s));
    expect(missing).toEqual([]);
    expect(named.size).toBeGreaterThan(3);
  });

  it('names only configuration variables the code reads, with the defaults the code has', () => {
    const defaults = configDefaults();
    const unknown: string[] = [];
    const wrongDefaults: string[] = [];
    let checked = 0;
    for (const d of docs) {
      for (const m of d.text.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`/g)) {
        const name = m[1];
        if (!new RegExp(`\\b${name}\\b`).test(code)) unknown.push(`${d.file}: ${name}`);
      }
      // Configuration tables: | `A`, `B` (or `A` / `B`) | default(s) | …
      for (const line of d.text.split('\n')) {
        const cells = line.split('|').map((c) => c.trim());
        if (cells.length < 4) continue;
        const names = [...cells[1].matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`/g)].map((x) => x[1]);
        if (names.length === 0 || names.some((n) => !defaults.has(n))) continue;
        const cell = cells[2].replace(/\*\*/g, '');
        const values =
          names.length === 1 ? [cell] : cell.split(names.length > 1 && cell.includes(' / ') ? ' / ' : ', ');
        if (values.length !== names.length) continue;
        names.forEach((n, i) => {
          const raw = values[i].trim();
          const numeric = /^[\d,]+$/.test(raw) ? Number(raw.replace(/,/g, '')) : undefined;
          // A quoted default that names another setting (`http://127.0.0.1:$PORT`) is computed, not a schema default.
          const quoted = /^`([^`$]*)`$/.exec(raw)?.[1];
          if (numeric !== undefined || quoted !== undefined) checked++;
          const candidates = defaults.get(n)!;
          if (numeric !== undefined && !candidates.some((c) => Number(c) === numeric))
            wrongDefaults.push(`${d.file}: ${n} documented ${raw}, code ${JSON.stringify(candidates)}`);
          if (quoted !== undefined && !candidates.some((c) => String(c) === quoted))
            wrongDefaults.push(`${d.file}: ${n} documented ${raw}, code ${JSON.stringify(candidates)}`);
        });
      }
    }
    expect(unknown).toEqual([]);
    expect(wrongDefaults).toEqual([]);
    expect(checked).toBeGreaterThan(30); // the tables were really read
  });

  it('documents every error code the services answer with', () => {
    const sources = walk(join(ROOT, 'apps'), (p) => p.endsWith('.ts') && !p.endsWith('.spec.ts')).concat(
      walk(join(ROOT, 'libs'), (p) => p.endsWith('.ts') && !p.endsWith('.spec.ts')),
    );
    const codes = new Map<string, string>();
    for (const f of sources) {
      const s = readFileSync(f, 'utf8').replace(/\s+/g, ' ');
      const patterns = [
        /new ApiError\( ?[\w.]+, ?'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g, // new ApiError(status, 'CODE', …)
        /\b\w+\( ?'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)', ?['`]/g, // helper('CODE', 'mensaje…')
        /\bcode: ?'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)', ?message:/g, // { code: 'CODE', message: … }
      ];
      for (const p of patterns) for (const m of s.matchAll(p)) codes.set(m[1], relative(ROOT, f));
    }
    expect(codes.size).toBeGreaterThan(20);
    const undocumented = [...codes].filter(([c]) => !allDocs.includes(c)).map(([c, f]) => `${c} (${f})`);
    expect(undocumented).toEqual([]);
  });
});
