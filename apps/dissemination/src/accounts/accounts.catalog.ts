import { configFile } from '@alerta-rosa/config';
import { PLATFORMS } from '@alerta-rosa/contracts';
import { readFileSync } from 'fs';
import { isAbsolute } from 'path';
import { parse } from 'yaml';
import { z } from 'zod';

export const rateLimitPolicySchema = z
  .object({
    max: z.number().int().min(1).max(100_000),
    durationMs: z.number().int().min(100).max(86_400_000),
    concurrency: z.number().int().min(1).max(50).default(1),
  })
  .strict();
export type RateLimitPolicy = z.infer<typeof rateLimitPolicySchema>;

export const accountDefinitionSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'minúsculas, dígitos y guiones'),
    platform: z.enum(PLATFORMS),
    handle: z.string().min(1).max(100),
    displayName: z.string().min(1).max(200),
    ownerArea: z.string().min(1).max(100),
    regions: z.array(z.string().min(1)).default([]),
    enabled: z.boolean().default(true),
    rateLimit: rateLimitPolicySchema,
  })
  .strict();
export type AccountDefinition = z.infer<typeof accountDefinitionSchema>;

/** What each platform accepts as an account name (X usernames are at most 15 characters). */
const HANDLE_RULES: Partial<Record<(typeof PLATFORMS)[number], { pattern: RegExp; message: string }>> = {
  x: {
    pattern: /^@[A-Za-z0-9_]{1,15}$/,
    message: 'usuario de X: «@» seguido de 1 a 15 letras, dígitos o «_»',
  },
  facebook: {
    pattern: /^[A-Za-z0-9.]{5,50}$/,
    message: 'nombre de usuario de la página de Facebook: de 5 a 50 letras, dígitos o puntos',
  },
};

/** Adds an issue on `handle` when it is not a valid name on the account's platform. */
export function checkHandle(
  account: { platform: (typeof PLATFORMS)[number]; handle: string },
  ctx: z.RefinementCtx,
): void {
  const rule = HANDLE_RULES[account.platform];
  if (rule && !rule.pattern.test(account.handle)) {
    ctx.addIssue({ code: 'custom', path: ['handle'], message: rule.message });
  }
}

const catalogSchema = z.object({
  contact: z.object({ phones: z.array(z.object({ label: z.string(), number: z.string() })).min(1) }),
  policies: z.record(z.string(), z.unknown()).optional(),
  accounts: z.array(accountDefinitionSchema.superRefine(checkHandle)).min(1),
});
export type AccountsCatalog = z.infer<typeof catalogSchema>;

/** Reads config/accounts.yaml (or ACCOUNTS_FILE): the seed of the registry and the public contact numbers. */
export function loadAccountsCatalog(file = process.env.ACCOUNTS_FILE ?? 'accounts.yaml'): AccountsCatalog {
  const path = isAbsolute(file) ? file : configFile(file);
  const parsed = catalogSchema.safeParse(parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: ${z.prettifyError(parsed.error)}`);
  const ids = new Set<string>();
  for (const a of parsed.data.accounts) {
    if (ids.has(a.id)) throw new Error(`${path}: duplicate account id ${a.id}`);
    ids.add(a.id);
  }
  return parsed.data;
}
