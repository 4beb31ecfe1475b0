import { Injectable } from '@nestjs/common';
import { dirname, join } from 'path';
import pdfmake from 'pdfmake';
import { PeriodFigures } from '../committee/committee.service';
import { ALL_DEFINITIONS, EXCLUSION_REASONS, OUTCOME_LABELS } from '../committee/figure.definitions';
import { oaxacaHuman } from '../committee/oaxaca-time';
import { areaAcknowledgement, durationHistogram, outcomesByRegion, renderSvg } from './report.charts';
import { formatCount, formatDuration, formatShare } from './report.format';

const FONT_DIR = join(dirname(require.resolve('pdfmake/fonts/Roboto.js')), 'Roboto');
pdfmake.setFonts({
  Roboto: {
    normal: join(FONT_DIR, 'Roboto-Regular.ttf'),
    bold: join(FONT_DIR, 'Roboto-Medium.ttf'),
    italics: join(FONT_DIR, 'Roboto-Italic.ttf'),
    bolditalics: join(FONT_DIR, 'Roboto-MediumItalic.ttf'),
  },
});
// The report never fetches anything: its only files are the bundled fonts.
pdfmake.setUrlAccessPolicy(() => false);
pdfmake.setLocalAccessPolicy((path) => path.startsWith(FONT_DIR));

const ROSE = '#c2185b';
const OUTCOME_ORDER = ['localizada_con_vida', 'localizada_sin_vida', 'cancelada', 'open'];
const FILTER_LABELS: Record<string, string> = {
  outcome: 'Resultado',
  region: 'Región',
  municipality: 'Municipio',
  avgm: 'Municipio con AVGM',
  minor: 'Menor de edad',
  activatingBody: 'Cuerpo activador',
};

export interface ReportInput {
  figures: PeriodFigures;
  /** Per-alert durations in seconds, for the distribution charts. */
  activatedToLocated: number[];
  locatedToLastPhotoWithdrawn: number[];
  regionName: (id: string) => string;
  generatedAt: Date;
}

type Cell = string | { text: string; bold?: boolean; alignment?: string; fillColor?: string; color?: string };

function table(headers: string[], rows: Cell[][], widths?: (string | number)[]) {
  return {
    table: {
      headerRows: 1,
      widths: widths ?? headers.map((_, i) => (i === 0 ? '*' : 'auto')),
      body: [headers.map((h) => ({ text: h, bold: true, color: 'white', fillColor: ROSE })), ...rows],
    },
    layout: 'lightHorizontalLines',
    fontSize: 8,
    margin: [0, 8, 0, 4],
  };
}

const num = (n: number): Cell => ({ text: formatCount(n), alignment: 'right' });
const right = (text: string): Cell => ({ text, alignment: 'right' });

/**
 * The committee's printable report for a period, in Spanish: cover, definitions, tables and charts
 * (distribution of durations, outcomes by region, acknowledgement per area). pdfmake lays it out; the
 * charts are Vega-Lite specifications rendered to SVG by Vega and embedded as vectors.
 */
@Injectable()
export class PeriodReportRenderer {
  async render(input: ReportInput): Promise<Buffer> {
    const f = input.figures;
    const from = new Date(f.period.from);
    const to = new Date(f.period.to);
    const filters = Object.entries(f.period)
      .filter(([k]) => k in FILTER_LABELS)
      .map(([k, v]) => `${FILTER_LABELS[k]}: ${typeof v === 'boolean' ? (v ? 'sí' : 'no') : String(v)}`);

    const regionRows = f.counts.byRegion.flatMap((r) =>
      OUTCOME_ORDER.map((o, order) => ({
        region: r.name,
        outcome: OUTCOME_LABELS[o],
        count: r.byOutcome[o],
        order,
      })),
    );
    const areaRows = f.areas.flatMap((a) => [
      { area: a.areaName ?? a.areaId, measure: 'Mediana', minutes: (a.acknowledgement.median ?? 0) / 60 },
      { area: a.areaName ?? a.areaId, measure: 'Percentil 90', minutes: (a.acknowledgement.p90 ?? 0) / 60 },
    ]);
    const [histLocated, histWithdrawn, byRegion, byArea] = await Promise.all([
      renderSvg(
        durationHistogram(
          'Distribución: de la activación a la localización',
          input.activatedToLocated,
          'desde la activación',
        ),
      ),
      renderSvg(
        durationHistogram(
          'Distribución: de la localización al retiro de la última fotografía',
          input.locatedToLastPhotoWithdrawn,
          'desde la localización',
        ),
      ),
      renderSvg(outcomesByRegion(regionRows)),
      renderSvg(areaAcknowledgement(areaRows)),
    ]);

    const d = f.durations;
    const durationRow = (key: string): Cell[] => {
      const def = ALL_DEFINITIONS.find((x) => x.key === key)!;
      const fig = d[key];
      const reasons = Object.entries(fig.excludedReasons)
        .filter(([, n]) => n > 0)
        .map(([r, n]) => `${r}: ${formatCount(n)}`)
        .join(', ');
      return [
        def.label,
        num(fig.n),
        right(formatDuration(fig.median)),
        right(formatDuration(fig.p90)),
        right(`${formatCount(fig.excluded)}${reasons ? ` (${reasons})` : ''}`),
      ];
    };
    const window = (label: string, w: PeriodFigures['locatedWithin24h']): Cell[] => [
      label,
      num(w.located),
      num(w.eligible),
      right(formatShare(w.share)),
      right(
        `${formatCount(w.excluded)} (cancelada: ${w.excludedReasons.cancelada}, reciente: ${w.excludedReasons.reciente})`,
      ),
    ];

    const content: unknown[] = [
      // Cover
      {
        text: 'Secretaría de Seguridad Pública de Oaxaca · Unidad de Género',
        color: ROSE,
        bold: true,
        margin: [0, 80, 0, 8],
      },
      { text: 'Comité Estatal del Protocolo «Alerta Rosa»', fontSize: 22, bold: true },
      { text: 'Informe del periodo', fontSize: 16, margin: [0, 4, 0, 24] },
      {
        text: `Alertas activadas del ${oaxacaHuman(from)} al ${oaxacaHuman(to)} (hora de Oaxaca)`,
        fontSize: 11,
      },
      ...(filters.length
        ? [{ text: `Filtros: ${filters.join('; ')}`, fontSize: 10, margin: [0, 4, 0, 0] }]
        : []),
      {
        text: `Generado el ${oaxacaHuman(input.generatedAt)}; cifras al ${oaxacaHuman(new Date(f.period.asOf))}.`,
        fontSize: 9,
        color: '#555',
        margin: [0, 4, 0, 24],
      },
      table(
        ['Resumen', 'Alertas'],
        [
          ['Alertas activadas en el periodo', num(f.counts.total)],
          ...OUTCOME_ORDER.map((o) => [
            OUTCOME_LABELS[o],
            num(f.counts.byOutcome[o as keyof typeof f.counts.byOutcome]),
          ]),
          ['En municipios con AVGM', num(f.counts.byAvgm.avgm)],
          ['Localizadas dentro de 24 h', right(formatShare(f.locatedWithin24h.share))],
          ['Localizadas dentro de 72 h', right(formatShare(f.locatedWithin72h.share))],
        ],
        ['*', 80],
      ),
      {
        text: 'Este informe no contiene datos personales: solo folios, municipios, tiempos y conteos.',
        fontSize: 8,
        color: '#555',
        pageBreak: 'after',
      },
      // Definitions
      { text: 'Definiciones', style: 'h1' },
      {
        text: 'Cada cifra indica qué cuenta, qué se excluye y cómo se tratan las alertas aún abiertas. Los tiempos que parten del reporte de la desaparición se dan aparte de los que parten de la activación. Se informan medianas y percentiles 90, nunca solo promedios.',
        fontSize: 9,
        margin: [0, 0, 0, 6],
      },
      table(
        ['Cifra', 'Qué cuenta', 'Qué se excluye', 'Alertas abiertas'],
        ALL_DEFINITIONS.map((def) => [
          { text: def.label, bold: true },
          def.counts,
          def.excludes,
          def.openAlerts,
        ]),
        [90, '*', 110, 90],
      ),
      table(
        ['Motivo de exclusión', 'Significado'],
        Object.entries(EXCLUSION_REASONS).map(([k, v]) => [k, v]),
        [110, '*'],
      ),
      { text: 'Alertas', style: 'h1', pageBreak: 'before' },
      table(
        ['Resultado', 'Alertas'],
        OUTCOME_ORDER.map((o) => [
          OUTCOME_LABELS[o],
          num(f.counts.byOutcome[o as keyof typeof f.counts.byOutcome]),
        ]),
        ['*', 80],
      ),
      table(
        ['Región', 'Total', ...OUTCOME_ORDER.map((o) => OUTCOME_LABELS[o])],
        f.counts.byRegion.map((r) => [
          r.name,
          num(r.count),
          ...OUTCOME_ORDER.map((o) => num(r.byOutcome[o])),
        ]),
      ),
      { svg: byRegion, width: 480, margin: [0, 0, 0, 12] },
      table(
        ['Municipio', 'Clave INEGI', 'AVGM', 'Alertas'],
        f.counts.byMunicipality.map((m) => [m.name, m.code, m.avgm ? 'sí' : 'no', num(m.count)]),
      ),
      { text: 'Tiempos', style: 'h1', pageBreak: 'before' },
      table(
        ['Tiempo', 'n', 'Mediana', 'Percentil 90', 'Excluidas (motivo)'],
        Object.keys(d).map(durationRow),
        ['*', 25, 55, 55, 110],
      ),
      table(
        ['Ventana', 'Localizadas a tiempo', 'Alertas que pueden juzgarse', 'Proporción', 'Excluidas'],
        [
          window('24 h desde la activación', f.locatedWithin24h),
          window('72 h desde la activación', f.locatedWithin72h),
        ],
      ),
      table(
        ['Escalamientos y actualizaciones', 'Número'],
        [
          ['Escalamientos', num(f.counts.escalations.total)],
          ['Alertas con algún escalamiento', num(f.counts.escalations.alertsWithEscalations)],
          ['Nivel más alto alcanzado', num(f.counts.escalations.highestLevel)],
          ['Actualizaciones de ficha', num(f.counts.updates.total)],
          ['Alertas con actualizaciones', num(f.counts.updates.alertsWithUpdates)],
        ],
        ['*', 80],
      ),
      { svg: histLocated, width: 480, margin: [0, 0, 0, 8] },
      { svg: histWithdrawn, width: 480, margin: [0, 0, 0, 8] },
      { text: 'Cuentas oficiales', style: 'h1', pageBreak: 'before' },
      table(
        [
          'Cuenta',
          'Plataforma',
          'Intentadas',
          'Fallidas',
          'Tasa de fallas',
          'Con foto',
          'Retiradas',
          'Sin retirar',
          'Retiro mediana',
          'Retiro p90',
        ],
        f.accounts.map((a) => [
          a.handle,
          a.platform,
          num(a.publications),
          num(a.failed),
          right(formatShare(a.failureRate)),
          num(a.photoPosts),
          num(a.withdrawn),
          num(a.stillUp),
          right(formatDuration(a.withdrawal.median)),
          right(formatDuration(a.withdrawal.p90)),
        ]),
      ),
      { text: 'Áreas operativas', style: 'h1', pageBreak: 'before' },
      table(
        [
          'Área',
          'Tareas',
          'Vencidas o con acuse',
          'Acuse a tiempo',
          'Proporción',
          'Acuse mediana',
          'Acuse p90',
          'Conclusión mediana',
          'Conclusión p90',
          'Escalamientos',
        ],
        f.areas.map((a) => [
          a.areaName ?? a.areaId,
          num(a.tasks),
          num(a.due),
          num(a.acknowledgedOnTime),
          right(formatShare(a.shareOnTime)),
          right(formatDuration(a.acknowledgement.median)),
          right(formatDuration(a.acknowledgement.p90)),
          right(formatDuration(a.completion.median)),
          right(formatDuration(a.completion.p90)),
          num(a.escalations),
        ]),
      ),
      { svg: byArea, width: 480 },
    ];

    const doc = pdfmake.createPdf({
      info: {
        title: 'Informe del periodo — Comité Estatal del Protocolo Alerta Rosa',
        author: 'Unidad de Género, SSP Oaxaca',
        subject: 'Alerta Rosa',
      },
      pageSize: 'LETTER',
      pageMargins: [40, 40, 40, 50],
      defaultStyle: { font: 'Roboto', fontSize: 10 },
      styles: { h1: { fontSize: 14, bold: true, color: ROSE, margin: [0, 0, 0, 6] } },
      footer: (page: number, pages: number) => ({
        text: `Alerta Rosa · Informe del Comité Estatal · página ${page} de ${pages}`,
        alignment: 'center',
        fontSize: 8,
        color: '#777',
        margin: [0, 20, 0, 0],
      }),
      content,
    });
    return doc.getBuffer();
  }
}
