import { ESCALATION_TARGETS } from '@alerta-rosa/contracts';
import { z } from 'zod';

const minutes = z
  .number()
  .positive()
  .max(7 * 24 * 60);

export const psoStepSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    order: z.number().int().positive(),
    /** Who does it: a fixed area, the regional delegation of the last-seen region, or the local «Mujer Segura» unit. */
    area: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('area'), id: z.string().min(1) }).strict(),
      z.object({ kind: z.literal('regional_delegation'), of: z.string().min(1) }).strict(),
      z.object({ kind: z.literal('mujer_segura') }).strict(),
    ]),
    /** Conditions, all of which must hold; absent means always. */
    when: z
      .object({
        mujerSeguraUnit: z.boolean().optional(),
        minor: z.boolean().optional(),
        regions: z.array(z.string().min(1)).min(1).optional(),
      })
      .strict()
      .optional(),
    title: z.string().min(1).max(200),
    instructions: z.string().min(1).max(4000),
    ackWithinMinutes: minutes,
    completeWithinMinutes: minutes,
  })
  .strict()
  .refine((s) => s.completeWithinMinutes >= s.ackWithinMinutes, {
    path: ['completeWithinMinutes'],
    message: 'must not be shorter than ackWithinMinutes',
  });
export type PsoStep = z.infer<typeof psoStepSchema>;

export const psoVersionSchema = z
  .object({
    version: z.string().regex(/^[\w.-]+$/, 'letters, digits, dots and dashes'),
    name: z.string().min(1),
    effectiveFrom: z.string().datetime({ offset: true }),
    escalation: z
      .array(
        z
          .object({
            target: z.enum(ESCALATION_TARGETS),
            afterAckDeadlineMinutes: z.number().min(0).max(10_080),
          })
          .strict(),
      )
      .min(1)
      .refine(
        (levels) =>
          levels.every(
            (l, i) => i === 0 || l.afterAckDeadlineMinutes > levels[i - 1].afterAckDeadlineMinutes,
          ),
        'levels must be in increasing time order',
      ),
    progressReports: z
      .object({
        everyHours: z
          .number()
          .positive()
          .max(24 * 7),
        instructions: z.string().min(1),
      })
      .strict(),
    steps: z
      .array(psoStepSchema)
      .min(1)
      .refine((steps) => new Set(steps.map((s) => s.id)).size === steps.length, 'step ids must be unique'),
  })
  .strict();
export type PsoVersion = z.infer<typeof psoVersionSchema>;
