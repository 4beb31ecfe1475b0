/** Oaxaca's civil time (America/Mexico_City, no DST since 2022), as area staff read it. */
export function oaxacaTime(at: Date | string): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  return `${new Intl.DateTimeFormat('es-MX', {
    timeZone: 'America/Mexico_City',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(d)} h (hora de Oaxaca)`;
}

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

export interface FichaSummary {
  fullName: string;
  age: number;
  municipalityName: string;
  lastSeenAt: string;
  lastSeenPlace?: string | null;
  description?: string | null;
  photoUrl?: string | null;
  photoAltText?: string | null;
}

export interface AlertView {
  folio: string;
  version: number;
  regionName: string;
  minor: boolean;
  ficha: FichaSummary;
}

export interface TaskView {
  title: string;
  instructions: string;
  areaName: string;
  ackDueAt: Date;
  completeDueAt: Date;
  ackUrl?: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const FIELD_NAMES: Record<string, string> = {
  fullName: 'nombre',
  age: 'edad',
  municipalityCode: 'municipio',
  municipalityName: 'municipio',
  lastSeenAt: 'fecha y hora en que fue vista',
  lastSeenPlace: 'lugar en que fue vista',
  description: 'descripción',
  photoUrl: 'fotografía',
  photoAltText: 'descripción de la fotografía',
};

export const PHOTO_CID = 'ficha-foto@alerta-rosa';

const OUTCOMES: Record<string, string> = {
  localizada_con_vida: 'localizada con vida',
  localizada_sin_vida: 'localizada sin vida',
  cancelada: 'cancelada',
};

function fichaLines(a: AlertView): [string, string][] {
  const f = a.ficha;
  return [
    ['Nombre', f.fullName],
    ['Edad', `${f.age} años${a.minor ? ' (menor de edad: también Alerta Amber)' : ''}`],
    ['Municipio', `${f.municipalityName} (región ${a.regionName})`],
    ['Vista por última vez', oaxacaTime(f.lastSeenAt)],
    ...(f.lastSeenPlace ? ([['Lugar', f.lastSeenPlace]] as [string, string][]) : []),
    ...(f.description ? ([['Descripción', f.description]] as [string, string][]) : []),
  ];
}

function layout(title: string, blocks: string[]): string {
  return `<!doctype html><html lang="es-MX"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(
    title,
  )}</title></head><body style="font-family:Arial,Helvetica,sans-serif;color:#222;max-width:640px;margin:0 auto;padding:16px">
<div style="background:#c2185b;color:#fff;padding:12px 16px;font-weight:bold">Alerta Rosa · Secretaría de Seguridad Pública de Oaxaca</div>
${blocks.join('\n')}
<p style="font-size:12px;color:#666;margin-top:24px">Mensaje automático del sistema Alerta Rosa de la Unidad de Género. Contiene datos de una persona desaparecida: no lo reenvíe fuera de la Secretaría.</p>
</body></html>`;
}

function fichaHtml(a: AlertView, withPhoto: boolean): string {
  const rows = fichaLines(a)
    .map(
      ([k, v]) =>
        `<tr><th style="text-align:left;padding:4px 8px;vertical-align:top">${escapeHtml(k)}</th><td style="padding:4px 8px">${escapeHtml(v)}</td></tr>`,
    )
    .join('');
  const photo = withPhoto
    ? `<p><img src="cid:${PHOTO_CID}" alt="${escapeHtml(a.ficha.photoAltText ?? `Fotografía de ${a.ficha.fullName}`)}" style="max-width:240px"></p>`
    : '';
  return `<h3 style="margin-bottom:4px">Ficha de búsqueda ${escapeHtml(a.folio)}</h3>${photo}<table style="border-collapse:collapse">${rows}</table>`;
}

function fichaText(a: AlertView): string {
  return [`FICHA DE BÚSQUEDA ${a.folio}`, ...fichaLines(a).map(([k, v]) => `${k}: ${v}`)].join('\n');
}

function taskHtml(t: TaskView): string {
  const button = t.ackUrl
    ? `<p style="margin:20px 0"><a href="${escapeHtml(t.ackUrl)}" style="background:#c2185b;color:#fff;padding:12px 20px;text-decoration:none;border-radius:4px;font-weight:bold">Confirmar recepción</a></p>
<p style="font-size:12px">Si el botón no funciona, abra este enlace: ${escapeHtml(t.ackUrl)}</p>`
    : '';
  return `<h3 style="margin-bottom:4px">${escapeHtml(t.title)}</h3>
<p><strong>Área responsable:</strong> ${escapeHtml(t.areaName)}</p>
<p><strong>Instrucciones:</strong> ${escapeHtml(t.instructions)}</p>
<p><strong>Confirme la recepción antes de:</strong> ${escapeHtml(oaxacaTime(t.ackDueAt))}<br>
<strong>Plazo para concluir:</strong> ${escapeHtml(oaxacaTime(t.completeDueAt))}</p>${button}`;
}

function taskText(t: TaskView): string {
  return [
    `TAREA: ${t.title}`,
    `Área responsable: ${t.areaName}`,
    `Instrucciones: ${t.instructions}`,
    `Confirme la recepción antes de: ${oaxacaTime(t.ackDueAt)}`,
    `Plazo para concluir: ${oaxacaTime(t.completeDueAt)}`,
    ...(t.ackUrl ? [`Confirmar recepción (un clic, sin iniciar sesión): ${t.ackUrl}`] : []),
  ].join('\n');
}

export function renderAssignment(a: AlertView, t: TaskView, withPhoto: boolean): RenderedMail {
  const subject = `[Alerta Rosa ${a.folio}] Tarea asignada: ${t.title}`;
  const intro = `Se activó la Alerta Rosa ${a.folio}. El PSO asigna a su área la siguiente tarea.`;
  return {
    subject,
    text: [intro, '', taskText(t), '', fichaText(a)].join('\n'),
    html: layout(subject, [`<p>${escapeHtml(intro)}</p>`, taskHtml(t), fichaHtml(a, withPhoto)]),
  };
}

export function renderEscalation(
  a: AlertView,
  t: TaskView,
  level: { level: number; targetName: string; deadlineAt: Date },
  withPhoto: boolean,
): RenderedMail {
  const subject = `[Alerta Rosa ${a.folio}] ESCALAMIENTO nivel ${level.level}: ${t.areaName} no ha confirmado «${t.title}»`;
  const intro = `${level.targetName}: el área ${t.areaName} no confirmó la recepción de su tarea antes de ${oaxacaTime(
    level.deadlineAt,
  )}. Por favor asegure que se atienda de inmediato.`;
  return {
    subject,
    text: [intro, '', taskText(t), '', fichaText(a)].join('\n'),
    html: layout(subject, [
      `<p><strong>${escapeHtml(intro)}</strong></p>`,
      taskHtml(t),
      fichaHtml(a, withPhoto),
    ]),
  };
}

export function renderUpdate(
  a: AlertView,
  changedFields: string[],
  tasks: TaskView[],
  withPhoto: boolean,
): RenderedMail {
  const changed = [...new Set(changedFields.map((f) => FIELD_NAMES[f] ?? f))].join(', ');
  const subject = `[Alerta Rosa ${a.folio}] Actualización de la ficha (versión ${a.version})`;
  const intro = `La ficha de la Alerta Rosa ${a.folio} fue actualizada (${changed}). Sus tareas siguen vigentes.`;
  const list = tasks.map((t) => `- ${t.title} (concluir antes de ${oaxacaTime(t.completeDueAt)})`).join('\n');
  return {
    subject,
    text: [intro, '', 'Tareas abiertas de su área:', list, '', fichaText(a)].join('\n'),
    html: layout(subject, [
      `<p>${escapeHtml(intro)}</p>`,
      `<p><strong>Tareas abiertas de su área:</strong></p><ul>${tasks
        .map(
          (t) =>
            `<li>${escapeHtml(t.title)} (concluir antes de ${escapeHtml(oaxacaTime(t.completeDueAt))})</li>`,
        )
        .join('')}</ul>`,
      fichaHtml(a, withPhoto),
    ]),
  };
}

export function renderStandDown(folio: string, areaName: string, outcome: string, at: Date): RenderedMail {
  const subject = `[Alerta Rosa ${folio}] Alerta desactivada: suspender acciones`;
  const text = `${areaName}: la Alerta Rosa ${folio} fue desactivada el ${oaxacaTime(at)} (resultado: ${
    OUTCOMES[outcome] ?? outcome
  }). Suspenda las acciones del PSO para esta alerta; sus tareas abiertas quedaron canceladas. No difunda más la ficha.`;
  return { subject, text, html: layout(subject, [`<p>${escapeHtml(text)}</p>`]) };
}

export function renderProgressReminder(
  a: AlertView,
  areaName: string,
  instructions: string,
  tasks: TaskView[],
): RenderedMail {
  const subject = `[Alerta Rosa ${a.folio}] Informe de avance requerido`;
  const intro = `${areaName}: la Alerta Rosa ${a.folio} sigue activa. ${instructions}`;
  const list = tasks.map((t) => `- ${t.title}`).join('\n');
  return {
    subject,
    text: [intro, '', 'Tareas abiertas:', list, '', fichaText(a)].join('\n'),
    html: layout(subject, [
      `<p>${escapeHtml(intro)}</p>`,
      `<ul>${tasks.map((t) => `<li>${escapeHtml(t.title)}</li>`).join('')}</ul>`,
      fichaHtml(a, false),
    ]),
  };
}

/** A mail made of plain paragraphs (no ficha): the same lines as text and as HTML. */
export function paragraphs(subject: string, lines: string[]): RenderedMail {
  return {
    subject,
    text: lines.join('\n\n'),
    html: layout(
      subject,
      lines.map((l) => `<p>${escapeHtml(l)}</p>`),
    ),
  };
}

const PLATFORM_NAMES: Record<string, string> = { x: 'X', facebook: 'Facebook', webhook: 'webhook de aliado' };

/** To the account's owner area: a platform refused its credentials; no ficha data in it. */
export function renderAccountRevoked(p: {
  folio: string;
  areaName: string;
  handle: string;
  platform: string;
  accountId: string;
  error: string;
  detectedAt: Date;
}): RenderedMail {
  const platform = PLATFORM_NAMES[p.platform] ?? p.platform;
  const subject = `[Alerta Rosa ${p.folio}] Cuenta ${p.handle} (${platform}) sin acceso: no se está publicando`;
  const lines = [
    `${p.areaName}: ${platform} rechazó las credenciales de la cuenta oficial ${p.handle} el ${oaxacaTime(p.detectedAt)}, al publicar la ficha de la Alerta Rosa ${p.folio}.`,
    'Mientras no se renueven, esa cuenta no recibe ninguna publicación (las demás cuentas siguen publicando) y no se pueden retirar de ella las fichas ya publicadas.',
    `Qué hacer: renovar el acceso en ${platform} y cargar las credenciales nuevas en la administración de cuentas (cuenta «${p.accountId}»); la cuenta vuelve a publicar en cuanto se cargan.`,
    `Respuesta de la plataforma: ${p.error}`,
  ];
  return paragraphs(subject, lines);
}

/** To the account's owner area: a post with the ficha is still up on the account; no ficha data in it. */
export function renderWithdrawalDelayed(p: {
  folio: string;
  areaName: string;
  handle: string;
  platform: string;
  accountId: string;
  attempts: number;
  error: string;
  reportedAt: Date;
}): RenderedMail {
  const platform = PLATFORM_NAMES[p.platform] ?? p.platform;
  const subject = `[Alerta Rosa ${p.folio}] Retiro pendiente en ${p.handle} (${platform}): la ficha sigue publicada`;
  const lines = [
    `${p.areaName}: la Alerta Rosa ${p.folio} fue desactivada, pero la ficha con fotografía no se ha podido retirar de la cuenta oficial ${p.handle} (${platform}) después de ${p.attempts} intentos (${oaxacaTime(p.reportedAt)}).`,
    'El sistema sigue reintentando el retiro automáticamente. Si la cuenta perdió el acceso, renueve sus credenciales en la administración de cuentas (cuenta «' +
      p.accountId +
      '»); si no es posible de inmediato, retire la publicación manualmente desde la plataforma.',
    `Respuesta de la plataforma: ${p.error}`,
  ];
  return paragraphs(subject, lines);
}
