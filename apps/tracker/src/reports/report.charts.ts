import * as vega from 'vega';
import { TopLevelSpec, compile } from 'vega-lite';

const CONFIG = {
  font: 'Roboto',
  background: 'white',
  view: { stroke: null },
  axis: { labelFontSize: 9, titleFontSize: 10, grid: true, gridColor: '#e5e5e5' },
  legend: { labelFontSize: 9, titleFontSize: 10, orient: 'bottom' },
  title: { fontSize: 12, anchor: 'start' },
} as const;

const OUTCOME_COLORS = {
  domain: ['Localizada con vida', 'Localizada sin vida', 'Cancelada', 'Abierta (aún activa)'],
  range: ['#2e7d32', '#6d4c41', '#9e9e9e', '#c2185b'],
};

/** Renders a Vega-Lite spec to SVG in-process (no canvas, no browser). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Histogram of one duration over the period's alerts, in hours (or minutes when all are short). */
export function durationHistogram(title: string, seconds: number[], since: string): TopLevelSpec {
  const inHours = Math.max(0, ...seconds) > 3 * 3_600;
  const values = seconds.map((s) => (inHours ? s / 3_600 : s / 60));
  const xTitle = `${inHours ? 'Horas' : 'Minutos'} ${since}`;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 460,
    height: 150,
    data: { values: values.map((h) => ({ h })) },
    mark: { type: 'bar', color: '#c2185b' },
    encoding: {
      x: { field: 'h', type: 'quantitative', bin: { maxbins: 24 }, title: xTitle },
      y: { aggregate: 'count', type: 'quantitative', title: 'Alertas' },
    },
  };
}

/** Alerts by region, stacked by outcome. */
export function outcomesByRegion(rows: { region: string; outcome: string; count: number }[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Alertas por región y resultado',
    width: 460,
    height: 180,
    data: { values: rows },
    mark: 'bar',
    encoding: {
      x: { field: 'region', type: 'nominal', title: null, axis: { labelAngle: -30 } },
      y: { field: 'count', type: 'quantitative', title: 'Alertas', stack: 'zero' },
      color: { field: 'outcome', type: 'nominal', title: 'Resultado', scale: OUTCOME_COLORS },
      order: { field: 'order', type: 'quantitative' },
    },
  };
}

/** Median and p90 of the time to acknowledge, per area (minutes). */
export function areaAcknowledgement(
  rows: { area: string; measure: string; minutes: number }[],
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Tiempo de acuse por área (minutos)',
    width: 300,
    data: { values: rows },
    mark: 'bar',
    encoding: {
      y: { field: 'area', type: 'nominal', title: null, axis: { labelLimit: 220 } },
      yOffset: { field: 'measure', type: 'nominal' },
      x: { field: 'minutes', type: 'quantitative', title: 'Minutos' },
      color: {
        field: 'measure',
        type: 'nominal',
        title: null,
        scale: { domain: ['Mediana', 'Percentil 90'], range: ['#c2185b', '#f8bbd0'] },
      },
    },
    height: { step: 9 },
  } as TopLevelSpec;
}
