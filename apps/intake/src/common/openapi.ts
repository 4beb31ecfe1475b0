import { z } from 'zod';

/** JSON Schema of a request body for the OpenAPI document, straight from the zod schema that validates it. */
export function openApiSchema(schema: z.ZodType): Record<string, any> {
  try {
    const { $schema: _s, ...json } = z.toJSONSchema(schema, {
      io: 'input',
      unrepresentable: 'any',
    }) as Record<string, any>;
    return json;
  } catch {
    return { type: 'object' };
  }
}
