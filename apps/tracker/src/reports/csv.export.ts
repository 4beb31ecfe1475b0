import { AlertFigureRow, TaskRow } from '../committee/committee.repository';
import { ALERT_DURATIONS, EXCLUSION_REASONS, OUTCOME_LABELS } from '../committee/figure.definitions';
import { GeographyCatalog } from '../committee/geography.catalog';
import { oaxacaIso } from '../committee/oaxaca-time';

type Value = string | number | boolean | null | undefined;

interface CsvColumn<R> {
  name: string;
  description: string;
  unit: string;
  value: (row: R) => Value;
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
function field(v: Value): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'boolean' ? (v ? 'sí' : 'no') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** UTF-8 with BOM (spreadsheets read the accents right), CRLF line ends, header line first. */
export function toCsv<R>(columns: CsvColumn<R>[], rows: R[]): string {
  const lines = [columns.map((c) => field(c.name)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => field(c.value(r))).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

const seconds = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 1000) / 1000);
const TIME = 'fecha y hora de Oaxaca, ISO 8601 con desplazamiento';

/** Spanish column names for the duration keys. */
const DURATION_COLUMNS: Record<string, string> = {
  reportedToActivated: 'seg_reporte_a_activacion',
  activatedToFirstPublication: 'seg_activacion_a_primera_publicacion',
  activatedToLastPublication: 'seg_activacion_a_ultima_publicacion',
  activatedToFirstPublicationX: 'seg_activacion_a_primera_publicacion_x',
  activatedToLastPublicationX: 'seg_activacion_a_ultima_publicacion_x',
  activatedToFirstPublicationFacebook: 'seg_activacion_a_primera_publicacion_facebook',
  activatedToLastPublicationFacebook: 'seg_activacion_a_ultima_publicacion_facebook',
  activatedToFirstPublicationWebhook: 'seg_activacion_a_primera_publicacion_webhook',
  activatedToLastPublicationWebhook: 'seg_activacion_a_ultima_publicacion_webhook',
  activatedToLocated: 'seg_activacion_a_localizacion',
  reportedToLocated: 'seg_reporte_a_localizacion',
  locatedToLastPhotoWithdrawn: 'seg_localizacion_a_retiro_ultima_foto',
  deactivatedToClosed: 'seg_desactivacion_a_cierre',
};

export function alertColumns(geography: GeographyCatalog): CsvColumn<AlertFigureRow>[] {
  return [
    {
      name: 'folio',
      description: 'Folio de la alerta (AR-año-número).',
      unit: 'texto',
      value: (r) => r.folio,
    },
    {
      name: 'id_alerta',
      description: 'Identificador interno de la alerta.',
      unit: 'UUID',
      value: (r) => r.alert_id,
    },
    {
      name: 'estado',
      description: 'active = activa; deactivated = desactivada sin cierre; closed = cerrada.',
      unit: 'texto',
      value: (r) => r.status,
    },
    {
      name: 'resultado',
      description: `Resultado de la desactivación: ${Object.entries(OUTCOME_LABELS)
        .filter(([k]) => k !== 'open')
        .map(([k, v]) => `${k} = ${v.toLowerCase()}`)
        .join('; ')}; vacío mientras está activa.`,
      unit: 'texto',
      value: (r) => r.outcome,
    },
    {
      name: 'cuerpo_activador',
      description: 'Quién activó la alerta: SSP o un cuerpo externo autorizado (p. ej. FGEO).',
      unit: 'texto',
      value: (r) => r.activating_body,
    },
    {
      name: 'menor_de_edad',
      description: 'Menor de 18 años (también Alerta Amber).',
      unit: 'sí/no',
      value: (r) => r.minor,
    },
    {
      name: 'clave_municipio',
      description: 'Clave INEGI del municipio donde fue vista por última vez.',
      unit: 'texto',
      value: (r) => r.municipality_code,
    },
    {
      name: 'municipio',
      description: 'Nombre oficial del municipio.',
      unit: 'texto',
      value: (r) => r.municipality_name,
    },
    {
      name: 'region',
      description: 'Región de Oaxaca del municipio.',
      unit: 'texto',
      value: (r) => (r.region_id ? geography.regionName(r.region_id) : null),
    },
    {
      name: 'municipio_avgm',
      description:
        'El municipio está en la declaratoria de Alerta de Violencia de Género contra las Mujeres (2018).',
      unit: 'sí/no',
      value: (r) => r.avgm,
    },
    {
      name: 'reportada',
      description: 'Momento del reporte de la desaparición.',
      unit: TIME,
      value: (r) => oaxacaIso(r.reported_at),
    },
    {
      name: 'activada',
      description: 'Momento de la activación.',
      unit: TIME,
      value: (r) => oaxacaIso(r.activated_at),
    },
    {
      name: 'desactivada',
      description: 'Momento de la desactivación (localización o cancelación); vacío si sigue activa.',
      unit: TIME,
      value: (r) => oaxacaIso(r.deactivated_at),
    },
    {
      name: 'cerrada',
      description: 'Momento del cierre; vacío si no se ha cerrado.',
      unit: TIME,
      value: (r) => oaxacaIso(r.closed_at),
    },
    {
      name: 'cerrada_por',
      description: 'tracker = cierre decidido por el sistema; admin = cierre manual de la administración.',
      unit: 'texto',
      value: (r) => r.closed_by,
    },
    {
      name: 'actualizaciones',
      description: 'Actualizaciones públicas de la ficha.',
      unit: 'número',
      value: (r) => r.updates,
    },
    {
      name: 'escalamientos',
      description: 'Escalamientos por falta de acuse.',
      unit: 'número',
      value: (r) => r.escalations,
    },
    {
      name: 'nivel_maximo_escalamiento',
      description: '1 = supervisión del área, 2 = oficial de guardia, 3 = Dirección; 0 = ninguno.',
      unit: 'número',
      value: (r) => r.max_escalation_level,
    },
    { name: 'tareas', description: 'Tareas del PSO asignadas.', unit: 'número', value: (r) => r.tasks_total },
    {
      name: 'publicaciones_con_foto',
      description: 'Publicaciones exitosas que llevaban su fotografía.',
      unit: 'número',
      value: (r) => r.photo_posts,
    },
    {
      name: 'publicaciones_retiradas',
      description: 'Publicaciones retiradas tras la desactivación.',
      unit: 'número',
      value: (r) => r.posts_withdrawn,
    },
    {
      name: 'publicaciones_con_foto_sin_retirar',
      description: 'Publicaciones con su fotografía aún en línea o que pueden existir.',
      unit: 'número',
      value: (r) => r.photo_up,
    },
    ...ALERT_DURATIONS.map((d) => ({
      name: DURATION_COLUMNS[d.key],
      description: `${d.label}. ${d.counts.split(' Alertas del periodo')[0]} Vacío cuando no aplica: ${d.excludes}`,
      unit: 'segundos',
      value: (r: AlertFigureRow) => seconds(r[`d_${d.key}`]),
    })),
  ];
}

export function taskColumns(): CsvColumn<TaskRow>[] {
  return [
    { name: 'folio', description: 'Folio de la alerta.', unit: 'texto', value: (r) => r.folio },
    {
      name: 'id_alerta',
      description: 'Identificador interno de la alerta.',
      unit: 'UUID',
      value: (r) => r.alert_id,
    },
    { name: 'id_tarea', description: 'Identificador de la tarea.', unit: 'UUID', value: (r) => r.task_id },
    {
      name: 'paso_pso',
      description: 'Paso del PSO que originó la tarea.',
      unit: 'texto',
      value: (r) => r.step_id,
    },
    {
      name: 'id_area',
      description: 'Área responsable (identificador del directorio).',
      unit: 'texto',
      value: (r) => r.area_id,
    },
    { name: 'area', description: 'Nombre del área responsable.', unit: 'texto', value: (r) => r.area_name },
    {
      name: 'asignada',
      description: 'Momento de la asignación.',
      unit: TIME,
      value: (r) => oaxacaIso(r.assigned_at),
    },
    {
      name: 'plazo_acuse',
      description: 'Plazo para el acuse de recibo.',
      unit: TIME,
      value: (r) => oaxacaIso(r.ack_due_at),
    },
    {
      name: 'acuse',
      description: 'Momento del acuse; vacío si no lo hubo.',
      unit: TIME,
      value: (r) => oaxacaIso(r.acknowledged_at),
    },
    {
      name: 'acuse_a_tiempo',
      description: 'El acuse llegó a más tardar en su plazo; vacío si no hubo acuse.',
      unit: 'sí/no',
      value: (r) => (r.acknowledged_at && r.ack_due_at ? r.acknowledged_at <= r.ack_due_at : null),
    },
    {
      name: 'seg_asignacion_a_acuse',
      description: 'Tiempo de la asignación al acuse.',
      unit: 'segundos',
      value: (r) => seconds(r.ack_seconds),
    },
    {
      name: 'plazo_conclusion',
      description: 'Plazo para concluir la tarea.',
      unit: TIME,
      value: (r) => oaxacaIso(r.complete_due_at),
    },
    {
      name: 'concluida',
      description: 'Momento en que el área la concluyó.',
      unit: TIME,
      value: (r) => oaxacaIso(r.completed_at),
    },
    {
      name: 'seg_asignacion_a_conclusion',
      description: 'Tiempo de la asignación a la conclusión.',
      unit: 'segundos',
      value: (r) => seconds(r.completion_seconds),
    },
    {
      name: 'cancelada',
      description: 'Momento en que se canceló (al desactivar la alerta).',
      unit: TIME,
      value: (r) => oaxacaIso(r.cancelled_at),
    },
    {
      name: 'estado',
      description: 'assigned, acknowledged, in_progress, done o cancelled.',
      unit: 'texto',
      value: (r) =>
        r.cancelled_at
          ? 'cancelled'
          : r.completed_at
            ? 'done'
            : r.progress_reported_at
              ? 'in_progress'
              : r.acknowledged_at
                ? 'acknowledged'
                : 'assigned',
    },
    {
      name: 'escalamientos',
      description: 'Escalamientos de esta tarea.',
      unit: 'número',
      value: (r) => r.escalations,
    },
    {
      name: 'nivel_maximo_escalamiento',
      description: 'Nivel más alto de escalamiento de la tarea (0 = ninguno).',
      unit: 'número',
      value: (r) => r.max_escalation_level,
    },
  ];
}

/** archivo, columna, descripción, unidad: every column of both exports, plus the exclusion reasons. */
export function dictionaryCsv(geography: GeographyCatalog): string {
  const rows: [string, string, string, string][] = [
    ...alertColumns(geography).map(
      (c) => ['alerts.csv', c.name, c.description, c.unit] as [string, string, string, string],
    ),
    ...taskColumns().map(
      (c) => ['tasks.csv', c.name, c.description, c.unit] as [string, string, string, string],
    ),
    ...Object.entries(EXCLUSION_REASONS).map(
      ([k, v]) => ['(motivos de exclusión)', k, v, 'texto'] as [string, string, string, string],
    ),
  ];
  return toCsv(
    [
      { name: 'archivo', description: '', unit: '', value: (r: [string, string, string, string]) => r[0] },
      { name: 'columna', description: '', unit: '', value: (r: [string, string, string, string]) => r[1] },
      {
        name: 'descripcion',
        description: '',
        unit: '',
        value: (r: [string, string, string, string]) => r[2],
      },
      { name: 'unidad', description: '', unit: '', value: (r: [string, string, string, string]) => r[3] },
    ],
    rows,
  );
}
