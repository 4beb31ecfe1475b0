import { ROLES } from '@alerta-rosa/auth';
import { z } from 'zod';

export const usernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, 'De 3 a 64 caracteres: letras, dígitos, punto, guion y guion bajo');

export const passwordSchema = z.string().min(12, 'Al menos 12 caracteres').max(200);

const areaIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{1,63}$/, 'Identificador de área inválido');

export const createUserSchema = z
  .object({
    username: usernameSchema,
    displayName: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .refine((s) => !/[<>\u0000-\u001F]/.test(s), 'Sin < ni > ni caracteres de control'),
    role: z.enum(ROLES),
    areaId: areaIdSchema.optional(),
    password: passwordSchema,
  })
  .strict()
  .refine((u) => (u.role === 'area') === (u.areaId !== undefined), {
    path: ['areaId'],
    message: 'El rol «area» requiere areaId, y solo ese rol lo lleva',
  });
export type CreateUserInput = z.infer<typeof createUserSchema>;

export const updateUserSchema = z
  .object({
    displayName: z.string().trim().min(1).max(200).optional(),
    active: z.boolean().optional(),
    password: passwordSchema.optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, { message: 'Indique al menos un campo' });
export type UpdateUserInput = z.infer<typeof updateUserSchema>;

export const loginSchema = z
  .object({ username: z.string().trim().toLowerCase().min(1).max(64), password: z.string().min(1).max(200) })
  .strict();
export const refreshSchema = z.object({ refreshToken: z.string().min(10).max(300) }).strict();
export const logoutSchema = z
  .object({ refreshToken: z.string().min(10).max(300).optional(), all: z.boolean().optional() })
  .strict();
