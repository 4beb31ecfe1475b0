/**
 * Every field of the ficha's private part (apps/intake/src/alerts/alert.schemas.ts privateFichaSchema),
 * with values distinctive enough that finding one anywhere public is a leak. `tag` keeps the values of
 * different alerts (and test files) apart.
 */
export function distinctivePrivatePart(tag: string) {
  return {
    reporterName: `Eulogia Zapoteca Reportante ${tag}`,
    reporterPhone: '+52 951 555 0199',
    reporterEmail: `eulogia.reporte.${tag.toLowerCase()}@example.org`,
    relationship: `Madrina-${tag}`,
    investigationFolder: `FGEO/CI/${tag}-8841/2026`,
    healthConditions: `Asma-${tag} crónica`,
    medication: `Salbutamol-${tag}`,
    socialProfiles: [`https://social.example/${tag.toLowerCase()}.perfil`],
    internalNotes: `Nota interna ${tag} 5521`,
  };
}

/** Each private value, and the forms it could take once written into XML, JSON or a URL. */
export function leakForms(part: ReturnType<typeof distinctivePrivatePart>): string[] {
  const values = Object.values(part).flat();
  const xmlEscaped = values.map((v) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
  const encoded = values.map((v) => encodeURIComponent(v));
  // Parts that are distinctive on their own (a folder number, a phone without spaces).
  const pieces = [
    '5550199',
    '555 0199',
    ...values.map((v) => v.split(/[\s/]/).find((w) => w.length > 8) ?? v),
  ];
  return [...new Set([...values, ...xmlEscaped, ...encoded, ...pieces])];
}
