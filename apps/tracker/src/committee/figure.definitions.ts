/**
 * Every figure the committee reads, defined where it is computed: what counts, what is left out and how
 * alerts still open are treated. The API returns these texts with the figures; the PDF prints them and the
 * CSV dictionary is built from them. Texts are Spanish (what the comité reads); keys are stable.
 */
export interface FigureDefinition {
  key: string;
  label: string;
  /** What is measured and over which alerts or tasks. */
  counts: string;
  /** What is left out (and under which reason in `excludedReasons`). */
  excludes: string;
  /** How alerts still open (active, or deactivated and not yet closed) are treated. */
  openAlerts: string;
  unit: 'segundos' | 'proporción' | 'número';
}

/** Reasons a duration leaves an alert or task out (keys of `excludedReasons`). */
export const EXCLUSION_REASONS: Record<string, string> = {
  abierta: 'alerta aún activa (sin localizar)',
  cancelada: 'alerta cancelada (error o duplicado): no hubo localización',
  sin_publicacion: 'ninguna publicación exitosa de la ficha en esa plataforma',
  sin_foto: 'ninguna publicación llevó su fotografía',
  retiro_pendiente: 'alguna publicación con su fotografía sigue sin retiro confirmado',
  sin_cerrar: 'desactivada pero aún sin cierre',
  sin_acuse: 'tarea sin acuse de recibo',
  no_concluida: 'tarea no concluida (cancelada al desactivar o aún abierta)',
  reciente: 'activada hace menos que la ventana medida: aún no se puede juzgar',
};

const PERIOD_RULE =
  'Alertas del periodo: las activadas entre «desde» (incluido) y «hasta» (excluido), con los filtros pedidos.';
const STATS =
  'Se informa n, mediana y percentil 90 (interpolación lineal entre rangos, como percentile_cont de PostgreSQL); nunca solo promedios.';

const platformNames: Record<string, string> = {
  X: 'X',
  Facebook: 'Facebook',
  Webhook: 'aliados',
};

function publicationDefs(): FigureDefinition[] {
  const defs: FigureDefinition[] = [
    {
      key: 'activatedToFirstPublication',
      label: 'De la activación a la primera publicación',
      counts: `Tiempo desde la activación hasta la primera publicación exitosa de la ficha de activación en cualquiera de las cuentas oficiales. ${PERIOD_RULE} ${STATS}`,
      excludes: 'Alertas sin ninguna publicación exitosa de la ficha (sin_publicacion).',
      openAlerts: 'Se incluyen: la publicación ocurre al activar.',
      unit: 'segundos',
    },
    {
      key: 'activatedToLastPublication',
      label: 'De la activación a la última publicación',
      counts: `Tiempo desde la activación hasta la última publicación exitosa de la ficha de activación (la cuenta más lenta). ${PERIOD_RULE} ${STATS}`,
      excludes: 'Alertas sin ninguna publicación exitosa de la ficha (sin_publicacion).',
      openAlerts:
        'Se incluyen con lo publicado hasta ahora (una cuenta que se pone al día más tarde alarga la cifra).',
      unit: 'segundos',
    },
  ];
  for (const p of ['X', 'Facebook', 'Webhook']) {
    for (const [edge, es] of [
      ['First', 'primera'],
      ['Last', 'última'],
    ]) {
      defs.push({
        key: `activatedTo${edge}Publication${p}`,
        label: `De la activación a la ${es} publicación en ${platformNames[p]}`,
        counts: `Como «De la activación a la ${es} publicación», solo con las cuentas de ${p === 'Webhook' ? 'medios aliados (webhook)' : platformNames[p]}. ${PERIOD_RULE} ${STATS}`,
        excludes: `Alertas sin publicación exitosa en ${platformNames[p]} (sin_publicacion).`,
        openAlerts: 'Se incluyen.',
        unit: 'segundos',
      });
    }
  }
  return defs;
}

/** Durations measured per alert (keys of `durations` in the period figures). */
export const ALERT_DURATIONS: FigureDefinition[] = [
  {
    key: 'reportedToActivated',
    label: 'Del reporte a la activación',
    counts: `Tiempo desde que la familia reportó la desaparición hasta la activación de la alerta. Es el único tiempo que parte del reporte: los demás parten de la activación y nunca se mezclan. ${PERIOD_RULE} ${STATS}`,
    excludes: 'Nada: toda alerta activada tiene ambos momentos.',
    openAlerts: 'Se incluyen (ambos momentos ya ocurrieron).',
    unit: 'segundos',
  },
  ...publicationDefs(),
  {
    key: 'activatedToLocated',
    label: 'De la activación a la localización',
    counts: `Tiempo desde la activación hasta la desactivación con resultado «localizada con vida» o «localizada sin vida» (el momento en que se registra la localización). ${PERIOD_RULE} ${STATS}`,
    excludes:
      'Alertas canceladas (cancelada) y alertas aún activas (abierta); estas últimas se cuentan aparte en «excluidas».',
    openAlerts:
      'Se excluyen y se informan: su tiempo aún corre (una mediana que las incluyera sería menor que la real).',
    unit: 'segundos',
  },
  {
    key: 'reportedToLocated',
    label: 'Del reporte a la localización',
    counts: `Tiempo desde el reporte de la desaparición hasta la localización; se da aparte de «De la activación a la localización» para no confundir el tiempo de reporte con el de la alerta. ${PERIOD_RULE} ${STATS}`,
    excludes: 'Alertas canceladas (cancelada) y aún activas (abierta).',
    openAlerts: 'Se excluyen y se informan.',
    unit: 'segundos',
  },
  {
    key: 'locatedToLastPhotoWithdrawn',
    label: 'De la localización al retiro de la última fotografía',
    counts: `Tiempo desde la localización hasta que se retiró la última publicación que llevaba su fotografía, en cualquier cuenta. ${PERIOD_RULE} ${STATS}`,
    excludes:
      'Alertas canceladas (cancelada), aún activas (abierta), sin publicaciones con fotografía (sin_foto) y con alguna publicación con fotografía aún sin retiro confirmado (retiro_pendiente).',
    openAlerts: 'Se excluyen; las que tienen retiro pendiente se informan como retiro_pendiente.',
    unit: 'segundos',
  },
  {
    key: 'deactivatedToClosed',
    label: 'De la desactivación al cierre',
    counts: `Tiempo desde la desactivación (cualquier resultado) hasta el cierre: decidido por el sistema cuando el retiro quedó confirmado en todas las cuentas y todas las tareas quedaron concluidas o canceladas, o cerrado manualmente por la administración. ${PERIOD_RULE} ${STATS}`,
    excludes: 'Alertas aún activas (abierta) y desactivadas aún sin cierre (sin_cerrar).',
    openAlerts: 'Se excluyen y se informan.',
    unit: 'segundos',
  },
];

/** Durations measured per task of the period's alerts. */
export const TASK_DURATIONS: FigureDefinition[] = [
  {
    key: 'taskAcknowledgement',
    label: 'De la asignación de la tarea al acuse de recibo',
    counts: `Tiempo desde que se asignó cada tarea del PSO a su área hasta su acuse de recibo, sobre todas las tareas de las alertas del periodo. ${STATS}`,
    excludes: 'Tareas sin acuse (sin_acuse): canceladas antes del acuse o aún esperándolo.',
    openAlerts: 'Sus tareas con acuse se incluyen.',
    unit: 'segundos',
  },
  {
    key: 'taskCompletion',
    label: 'De la asignación de la tarea a su conclusión',
    counts: `Tiempo desde la asignación de cada tarea hasta que su área la marcó concluida. ${STATS}`,
    excludes: 'Tareas no concluidas (no_concluida): canceladas al desactivar la alerta o aún abiertas.',
    openAlerts: 'Sus tareas concluidas se incluyen.',
    unit: 'segundos',
  },
];

export const OTHER_FIGURES: FigureDefinition[] = [
  {
    key: 'counts',
    label: 'Alertas por resultado, región y municipio',
    counts: `Número de alertas del periodo por resultado (localizada con vida, localizada sin vida, cancelada, abierta = aún activa), por región de Oaxaca y por municipio donde fue vista por última vez (con la marca de municipio con Alerta de Violencia de Género, AVGM). ${PERIOD_RULE}`,
    excludes: 'Nada.',
    openAlerts: 'Se cuentan como «abierta».',
    unit: 'número',
  },
  {
    key: 'locatedWithin24h',
    label: 'Localizadas dentro de 24 h de la activación',
    counts:
      'Proporción de alertas localizadas (con o sin vida) a más tardar 24 h después de su activación, entre las alertas del periodo que pueden juzgarse.',
    excludes:
      'Alertas canceladas (cancelada) y alertas aún activas activadas hace menos de 24 h (reciente): su resultado aún no se conoce.',
    openAlerts:
      'Una alerta aún activa con más de 24 h desde su activación cuenta como no localizada a tiempo.',
    unit: 'proporción',
  },
  {
    key: 'locatedWithin72h',
    label: 'Localizadas dentro de 72 h de la activación',
    counts: 'Como la anterior, con una ventana de 72 h.',
    excludes: 'Alertas canceladas (cancelada) y aún activas activadas hace menos de 72 h (reciente).',
    openAlerts:
      'Una alerta aún activa con más de 72 h desde su activación cuenta como no localizada a tiempo.',
    unit: 'proporción',
  },
  {
    key: 'accounts.failureRate',
    label: 'Tasa de fallas de publicación por cuenta',
    counts:
      'Por cuenta oficial: publicaciones fallidas entre publicaciones intentadas y terminadas (exitosas + fallidas), de todos los tipos (ficha, actualizaciones, aviso de localización), de las alertas del periodo.',
    excludes: 'Publicaciones aún en curso o canceladas antes de enviarse (la alerta se desactivó antes).',
    openAlerts: 'Sus publicaciones terminadas se incluyen.',
    unit: 'proporción',
  },
  {
    key: 'accounts.withdrawal',
    label: 'Tiempo de retiro por cuenta',
    counts: `Por cuenta oficial: tiempo desde la desactivación de la alerta hasta el retiro de cada publicación que llevaba su fotografía. ${STATS} «Sin retirar» cuenta las publicaciones con fotografía de alertas ya desactivadas que siguen en línea o pueden existir.`,
    excludes:
      'Publicaciones sin fotografía (no se retiran) y publicaciones aún sin retirar (se informan aparte).',
    openAlerts: 'Las alertas aún activas no tienen retiros.',
    unit: 'segundos',
  },
  {
    key: 'areas.onTime',
    label: 'Acuse a tiempo por área',
    counts:
      'Por área: tareas con acuse a más tardar en su plazo de acuse, entre las tareas cuyo plazo ya venció o que ya tienen acuse. Incluye la mediana y el percentil 90 del tiempo de acuse y de conclusión de sus tareas, y sus escalamientos.',
    excludes:
      'Tareas canceladas antes de vencer su plazo de acuse sin haberlo dado, y tareas abiertas cuyo plazo aún no vence.',
    openAlerts: 'Sus tareas se incluyen con la misma regla.',
    unit: 'proporción',
  },
  {
    key: 'escalations',
    label: 'Escalamientos',
    counts:
      'Número de escalamientos por falta de acuse (supervisión del área = nivel 1, oficial de guardia = 2, Dirección = 3) y el nivel más alto alcanzado, por alerta y en el periodo.',
    excludes: 'Nada.',
    openAlerts: 'Se incluyen los ocurridos hasta ahora.',
    unit: 'número',
  },
  {
    key: 'updates',
    label: 'Actualizaciones de la ficha',
    counts: 'Número de actualizaciones públicas de la ficha (cada una es una nueva versión difundida).',
    excludes: 'Cambios de la parte privada (no se difunden).',
    openAlerts: 'Se incluyen las ocurridas hasta ahora.',
    unit: 'número',
  },
];

export const ALL_DEFINITIONS: FigureDefinition[] = [...OTHER_FIGURES, ...ALERT_DURATIONS, ...TASK_DURATIONS];

/** Definitions that apply to the per-alert listing (no period shares or per-account/area aggregates). */
export const ALERT_LIST_DEFINITIONS: FigureDefinition[] = [
  ...ALERT_DURATIONS.map((d) => ({
    ...d,
    counts: d.counts.replace(` ${PERIOD_RULE}`, '').replace(` ${STATS}`, ''),
  })),
  ...TASK_DURATIONS.map((d) => ({ ...d, counts: d.counts.replace(` ${STATS}`, '') })),
  OTHER_FIGURES.find((d) => d.key === 'escalations')!,
  OTHER_FIGURES.find((d) => d.key === 'updates')!,
];

export const OUTCOME_LABELS: Record<string, string> = {
  localizada_con_vida: 'Localizada con vida',
  localizada_sin_vida: 'Localizada sin vida',
  cancelada: 'Cancelada',
  open: 'Abierta (aún activa)',
};
