import { execFile } from 'child_process';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { promisify } from 'util';
import { formatCount, formatDuration, formatShare } from '../../apps/tracker/src/reports/report.format';
import { TestStack, waitFor } from '../support/stack';
import {
  AccountScript,
  AlertScript,
  ScriptedEventProducer,
  ScriptedEvents,
  scriptAlert,
} from '../support/tracker-events';

const run = promisify(execFile);

/**
 * The committee's figures on a fixture of 22 alerts whose every time is set by the test (events written
 * straight to the topics, as the other services would): located with and without life, cancelled, still
 * open, one whose photo is stuck on an account, one without photo, late acknowledgements with escalations.
 * The figures must equal the values computed by hand below; redelivering every event changes nothing;
 * tracker:rebuild rebuilds the same projection; the PDF carries the API's figures.
 */
const BASE = Date.parse('2025-03-01T18:00:00Z');
const DAY = 86_400_000;
const MIN = 60;

function accounts(i: number, stuck = false): AccountScript[] {
  return [
    {
      accountId: 'ssp-x',
      platform: 'x',
      handle: '@SSP_Oaxaca',
      postedAfterMin: 1 + (i % 3),
      withdrawnAfterMin: stuck ? null : 2,
    },
    {
      accountId: 'ssp-fb',
      platform: 'facebook',
      handle: 'SSPOaxaca',
      postedAfterMin: 2 + (i % 4),
      withdrawnAfterMin: 3,
    },
    {
      accountId: 'aliado',
      platform: 'webhook',
      handle: 'aliado',
      postedAfterMin: i === 5 ? null : 3,
      withdrawnAfterMin: 1,
    },
  ];
}

const LATE = new Set([2, 7, 11]);

function tasks(i: number, deactivatedAfterMin: number | null) {
  return [
    {
      areaId: 'c4',
      areaName: 'C4',
      stepId: 'c4-difusion-radio-camaras',
      ackDueMin: 10,
      ackAfterMin: i === 19 ? null : LATE.has(i) ? 15 : 5,
      escalations: LATE.has(i) || i === 19 ? 1 : 0,
    },
    {
      areaId: 'comunicacion-social',
      areaName: 'Comunicación Social',
      stepId: 'comunicacion-social-publicaciones',
      ackDueMin: 10,
      ackAfterMin: 8,
      completedAfterMin: deactivatedAfterMin === null || deactivatedAfterMin > 50 ? 50 : null,
    },
  ];
}

// Minutes from activation to deactivation (null: still active).
const LOCATED_ALIVE = [60, 120, 180, 300, 600, 900, 1200, 1800, 2400, 3000, 4000, 5000];
const PLAN: { outcome: AlertScript['outcome']; after: number | null; stuck?: boolean; photo?: boolean }[] = [
  ...LOCATED_ALIVE.map((after) => ({ outcome: 'localizada_con_vida' as const, after })),
  { outcome: 'localizada_sin_vida', after: 720 },
  { outcome: 'localizada_sin_vida', after: 6000 },
  { outcome: 'cancelada', after: 30 },
  { outcome: 'cancelada', after: 45 },
  { outcome: null, after: null },
  { outcome: null, after: null },
  { outcome: null, after: null },
  { outcome: null, after: null },
  { outcome: 'localizada_con_vida', after: 240, stuck: true },
  { outcome: 'localizada_con_vida', after: 500, photo: false },
];
const MUNICIPALITIES = [
  ['20067', 'Oaxaca de Juárez'],
  ['20079', 'Salina Cruz'],
  ['20043', 'Heroica Ciudad de Juchitán de Zaragoza'],
  ['20039', 'Heroica Ciudad de Huajuapan de León'],
];

function fixture(): { scripts: AlertScript[]; events: ScriptedEvents[] } {
  const scripts = PLAN.map((p, i): AlertScript => {
    const [code, name] = MUNICIPALITIES[i % MUNICIPALITIES.length];
    return {
      folio: `AR-2025-${String(100 + i).padStart(4, '0')}`,
      activatedAt: new Date(BASE + i * DAY),
      reportedBeforeMin: 30 + i * 10,
      municipalityCode: code,
      municipalityName: name,
      age: i % 5 === 0 ? 15 : 30,
      activatingBody: i === 3 ? 'FGEO' : 'SSP',
      photo: p.photo ?? true,
      updates: i % 3,
      outcome: p.outcome,
      deactivatedAfterMin: p.after ?? undefined,
      accounts: accounts(i, p.stuck),
      tasks: tasks(i, p.after),
      withdrawalCompletedAfterMin: p.stuck ? null : 4,
      coordinationReceiptAfterMin: 0,
    };
  });
  return { scripts, events: scripts.map(scriptAlert) };
}

/** PostgreSQL's percentile_cont: linear interpolation between the closest ranks. */
function percentileCont(values: number[], p: number): number | null {
  if (!values.length) return null;
  const v = [...values].sort((a, b) => a - b);
  const pos = (v.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

describe('committee figures on a fixture of 22 alerts (events written to the topics with set times)', () => {
  let stack: TestStack;
  let producer: ScriptedEventProducer;
  const { scripts, events } = fixture();
  const query = 'from=2025-01-01&to=2026-01-01';

  beforeAll(async () => {
    stack = await TestStack.create();
    await stack.start('tracker', { CLOSURE_CHECK_INTERVAL_MS: '300' });
    producer = new ScriptedEventProducer(stack.kafka, (t) => stack.topic(t));
    await producer.connect();
    await producer.send(events);
    // Every event recorded, and the tracker's own closure decisions back from tracking.v1 (17 closed, 1 overdue).
    const total = events.reduce((n, e) => n + Object.values(e.byTopic).flat().length, 0);
    await waitFor(
      async () => {
        const [r] = await stack.query<{ n: number; closed: number; overdue: number }>(
          `SELECT (SELECT count(*)::int FROM tracker.timeline_entries WHERE source <> 'tracker') AS n,
                  (SELECT count(*)::int FROM tracker.alerts WHERE closed_at IS NOT NULL) AS closed,
                  (SELECT count(*)::int FROM tracker.alerts WHERE closure_overdue_at IS NOT NULL) AS overdue`,
        );
        return r.n === total && r.closed === 17 && r.overdue === 1;
      },
      { timeoutMs: 60_000, what: 'the fixture on the timeline and closures decided' },
    );
  });

  afterAll(async () => {
    await producer?.disconnect();
    await stack?.teardown();
  });

  const period = async (q = query) => {
    // Computed every time (no-cache): what is checked is the computation, not a cached answer.
    const res = await stack.http('tracker', 'GET', `/api/v1/committee/period?${q}`, undefined, {
      authorization: `Bearer ${stack.token('comite')}`,
      'cache-control': 'no-cache',
    });
    expect(res.status).toBe(200);
    expect(res.body.cached).toBe(false);
    const { cached: _c, ...figures } = res.body;
    return figures;
  };

  it('counts alerts by outcome, region and municipality, and shares located within 24 h and 72 h, as computed by hand', async () => {
    const p = await period();
    expect(p.counts.total).toBe(22);
    expect(p.counts.byOutcome).toEqual({
      localizada_con_vida: 14,
      localizada_sin_vida: 2,
      cancelada: 2,
      open: 4,
    });
    // 20 alerts can be judged (22 less 2 cancelled; the 4 open ones are months old): 10 located within 24 h, 14 within 72 h.
    expect(p.locatedWithin24h).toMatchObject({
      located: 10,
      eligible: 20,
      share: 0.5,
      excludedReasons: { cancelada: 2, reciente: 0 },
    });
    expect(p.locatedWithin72h).toMatchObject({ located: 14, eligible: 20, share: 0.7 });
    // Municipalities cycle over four: 6, 6, 5, 5 alerts.
    expect(p.counts.byMunicipality.map((m: any) => [m.code, m.count, m.avgm])).toEqual([
      ['20067', 6, false],
      ['20079', 6, true],
      ['20039', 5, false],
      ['20043', 5, true],
    ]);
    expect(p.counts.byAvgm).toEqual({ avgm: 11, other: 11 });
    const istmo = p.counts.byRegion.find((r: any) => r.id === 'istmo');
    expect(istmo.count).toBe(11);
    expect(p.counts.byRegion.reduce((n: number, r: any) => n + r.count, 0)).toBe(22);
    expect(p.counts.escalations).toEqual({ total: 4, alertsWithEscalations: 4, highestLevel: 1 });
    expect(p.counts.updates).toEqual({ total: 21, alertsWithUpdates: 14 });
  });

  it('gives median and p90 of every duration, leaving out (and saying why) what does not apply', async () => {
    const p = await period();
    const d = p.durations;
    // Located: 16 alerts, deactivated 60…6000 min after activation: median (720+900)/2 = 810 min, p90 4500 min.
    expect(d.activatedToLocated).toEqual({
      n: 16,
      median: 810 * MIN,
      p90: 4500 * MIN,
      excluded: 6,
      excludedReasons: { cancelada: 2, abierta: 4 },
    });
    // Closed 4 min after deactivation (dissemination's confirmation comes last): 17 alerts; the stuck one waits.
    expect(d.deactivatedToClosed).toEqual({
      n: 17,
      median: 240,
      p90: 240,
      excluded: 5,
      excludedReasons: { abierta: 4, sin_cerrar: 1 },
    });
    // Last photo withdrawn 3 min after location (Facebook) where it applies.
    expect(d.locatedToLastPhotoWithdrawn).toMatchObject({
      n: 14,
      median: 180,
      p90: 180,
      excludedReasons: { cancelada: 2, abierta: 4, sin_foto: 1, retiro_pendiente: 1 },
    });
    // Reported → activated: 30 + 10 i minutes, i = 0..21: median 135 min, p90 219 min.
    expect(d.reportedToActivated).toMatchObject({ n: 22, median: 135 * MIN, p90: 219 * MIN, excluded: 0 });
    // Kept apart from activation: reported → located adds each alert's own reporting delay.
    const located = scripts.filter((s) => s.outcome && s.outcome !== 'cancelada');
    const reportedToLocated = located.map((s) => (s.deactivatedAfterMin! + s.reportedBeforeMin) * MIN);
    expect(d.reportedToLocated).toMatchObject({
      n: 16,
      median: percentileCont(reportedToLocated, 0.5),
      p90: percentileCont(reportedToLocated, 0.9),
    });
    // First post: X after 1 + i mod 3 minutes; last: the slowest of the three accounts.
    const first = scripts.map(
      (s) =>
        Math.min(...s.accounts.filter((a) => a.postedAfterMin !== null).map((a) => a.postedAfterMin!)) * MIN,
    );
    const last = scripts.map(
      (s) =>
        Math.max(...s.accounts.filter((a) => a.postedAfterMin !== null).map((a) => a.postedAfterMin!)) * MIN,
    );
    expect(d.activatedToFirstPublication).toMatchObject({
      n: 22,
      median: percentileCont(first, 0.5),
      p90: percentileCont(first, 0.9),
    });
    expect(d.activatedToLastPublication).toMatchObject({
      n: 22,
      median: percentileCont(last, 0.5),
      p90: percentileCont(last, 0.9),
    });
    expect(d.activatedToFirstPublicationWebhook).toMatchObject({
      n: 21,
      median: 180,
      excludedReasons: { sin_publicacion: 1 },
    });
    // Tasks: C4 acknowledges after 5 min, 15 when late (3 alerts), never in one: 21 acknowledgements.
    const c4 = scripts
      .filter((_, i) => i !== 19)
      .map((_, j, all) => (LATE.has(scripts.indexOf(all[j])) ? 15 : 5));
    const acks = [...c4, ...scripts.map(() => 8)].map((m) => m * MIN);
    expect(d.taskAcknowledgement).toMatchObject({
      n: 43,
      median: percentileCont(acks, 0.5),
      p90: percentileCont(acks, 0.9),
      excludedReasons: { sin_acuse: 1 },
    });
    for (const def of p.definitions) {
      expect(def).toEqual({
        key: expect.any(String),
        label: expect.any(String),
        counts: expect.any(String),
        excludes: expect.any(String),
        openAlerts: expect.any(String),
        unit: expect.any(String),
      });
    }
    const keys = p.definitions.map((x: any) => x.key);
    for (const k of Object.keys(d)) expect(keys).toContain(k);
  });

  it('gives each area its share acknowledged on time and each account its failure rate and withdrawal time', async () => {
    const p = await period();
    const c4 = p.areas.find((a: any) => a.areaId === 'c4');
    // 22 tasks, all due; 18 on time (3 late, 1 never acknowledged).
    expect(c4).toMatchObject({
      tasks: 22,
      due: 22,
      acknowledgedOnTime: 18,
      shareOnTime: 0.8182,
      escalations: 4,
    });
    const cs = p.areas.find((a: any) => a.areaId === 'comunicacion-social');
    expect(cs).toMatchObject({ tasks: 22, due: 22, acknowledgedOnTime: 22, shareOnTime: 1 });
    // Completed after 50 min where the alert lasted longer than that: all but the two cancelled ones.
    expect(cs.completion).toEqual({ n: 20, median: 3000, p90: 3000 });
    const partner = p.accounts.find((a: any) => a.accountId === 'aliado');
    expect(partner).toMatchObject({ publications: 22, failed: 1, failureRate: 0.0455 });
    const x = p.accounts.find((a: any) => a.accountId === 'ssp-x');
    // Photo posts on X: 21 (one alert without photo); withdrawn 2 min after deactivation in 17, one stuck.
    expect(x).toMatchObject({
      failed: 0,
      photoPosts: 21,
      withdrawn: 16,
      stillUp: 1,
      withdrawal: { n: 16, median: 120, p90: 120 },
    });
  });

  it('serves the same figures again while nothing changed', async () => {
    const ask = () => stack.http('tracker', 'GET', `/api/v1/committee/period?${query}&outcome=cancelada`);
    const first = (await ask()).body;
    const again = (await ask()).body;
    expect(again.cached).toBe(true);
    expect({ ...again, cached: false }).toEqual(first.cached ? { ...first, cached: false } : first);
  });

  it('filters by outcome, region, municipality, AVGM, minor and activating body; refuses bad filters with 400', async () => {
    expect((await period(`${query}&outcome=cancelada`)).counts.total).toBe(2);
    expect((await period(`${query}&outcome=open`)).counts.total).toBe(4);
    expect((await period(`${query}&avgm=true`)).counts.total).toBe(11);
    expect((await period(`${query}&municipality=20039`)).counts.total).toBe(5);
    expect((await period(`${query}&region=istmo`)).counts.total).toBe(11);
    expect((await period(`${query}&minor=true`)).counts.total).toBe(5);
    expect((await period(`${query}&activatingBody=FGEO`)).counts.total).toBe(1);
    const list = await stack.http(
      'tracker',
      'GET',
      `/api/v1/committee/alerts?${query}&outcome=localizada_sin_vida`,
    );
    expect(list.body.items.map((a: any) => [a.folio, a.durations.activatedToLocated])).toEqual([
      ['AR-2025-0112', 720 * MIN],
      ['AR-2025-0113', 6000 * MIN],
    ]);
    const one = await stack.http('tracker', 'GET', `/api/v1/committee/alerts/${events[2].alertId}`);
    expect(one.body).toMatchObject({
      folio: 'AR-2025-0102',
      escalations: { count: 1, highestLevel: 1 },
      updates: 2,
      durations: { activatedToLocated: 180 * MIN, deactivatedToClosed: 240 },
    });
    expect(one.body.areas.find((a: any) => a.areaId === 'c4')).toMatchObject({
      acknowledgementSeconds: 15 * MIN,
      acknowledgedOnTime: false,
    });
    for (const bad of [
      'outcome=perdida',
      'region=luna',
      'municipality=09001',
      'avgm=quizas',
      'from=ayer',
      'color=rosa',
      'from=2025-05-01&to=2025-01-01',
    ]) {
      const res = await stack.http('tracker', 'GET', `/api/v1/committee/period?${bad}`);
      expect({ bad, status: res.status, code: res.body.code }).toEqual({
        bad,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    const operadora = await stack.http(
      'tracker',
      'GET',
      `/api/v1/committee/period?${query}`,
      undefined,
      stack.bearer('operadora'),
    );
    expect(operadora.status).toBe(403);
    expect(
      (
        await stack.http(
          'tracker',
          'GET',
          `/api/v1/committee/period?${query}`,
          undefined,
          stack.bearer('admin'),
        )
      ).status,
    ).toBe(200);
  });

  it('names, on an alert that cannot close, the account that still shows her photo; flags it overdue once', async () => {
    const stuck = events[20].alertId;
    const closure = await stack.http('tracker', 'GET', `/api/v1/alerts/${stuck}/closure`);
    expect(closure.body).toMatchObject({
      status: 'deactivated',
      closedAt: null,
      overdue: true,
      withdrawalCompleted: false,
      missing: {
        photoPosts: [{ accountId: 'ssp-x', platform: 'x', handle: '@SSP_Oaxaca', state: 'posted' }],
        tasks: [],
      },
    });
    const timeline = await stack.timelineWhere(stuck, (e) => e.some((x) => x.type === 'AlertClosureOverdue'));
    const flags = timeline.entries.filter((e: any) => e.type === 'AlertClosureOverdue');
    expect(flags).toHaveLength(1);
    expect(flags[0].details).toMatchObject({ missingAccounts: ['ssp-x'], openTasks: 0 });
    const closed = await stack.http('tracker', 'GET', `/api/v1/alerts/${events[0].alertId}/closure`);
    expect(closed.body).toMatchObject({
      status: 'closed',
      closedBy: 'tracker',
      closedAt: new Date(BASE + (60 + 4) * 60_000).toISOString(),
      missing: { photoPosts: [], tasks: [] },
    });
  });

  it('changes nothing when every event is delivered again, and tracker:rebuild rebuilds the same projection', async () => {
    const digest = async () =>
      stack.query(
        `SELECT (SELECT count(*) FROM tracker.timeline_entries) AS entries,
                (SELECT md5(string_agg(md5(a::text), '' ORDER BY alert_id)) FROM tracker.alerts a) AS alerts,
                (SELECT md5(string_agg(md5(p::text), '' ORDER BY publication_id)) FROM tracker.publications p) AS pubs,
                (SELECT md5(string_agg(md5(t::text), '' ORDER BY task_id)) FROM tracker.tasks t) AS tasks,
                (SELECT count(*) FROM tracker.closure_decisions) AS decisions`,
      );
    const before = await digest();
    const figuresBefore = await period();
    await producer.send(events);
    // The duplicates reach the tracker (its inbox skips them): wait until its consumer is past them.
    const sent = events.reduce((n, e) => n + Object.values(e.byTopic).flat().length, 0);
    await waitFor(
      async () => {
        const lag = await stack.admin(async (a) => {
          const offsets = await a.fetchOffsets({
            groupId: `${stack.topicPrefix}.alerta-rosa.tracker`,
            topics: [stack.topic('alerts.v1'), stack.topic('publications.v1'), stack.topic('tasks.v1')],
          });
          let behind = 0;
          for (const t of offsets) {
            const ends = await a.fetchTopicOffsets(t.topic);
            for (const p of t.partitions)
              behind +=
                Number(ends.find((e) => e.partition === p.partition)!.high) - Math.max(0, Number(p.offset));
          }
          return behind;
        });
        return lag === 0;
      },
      { timeoutMs: 60_000, what: `the tracker to consume the ${sent} redelivered events` },
    );
    expect(await digest()).toEqual(before);
    const { asOf: _a, ...p1 } = figuresBefore.period;
    const figuresAfter = await period();
    const { asOf: _b, ...p2 } = figuresAfter.period;
    expect({ ...figuresAfter, period: p2 }).toEqual({ ...figuresBefore, period: p1 });

    const { stdout } = await run(
      process.execPath,
      [
        '-r',
        join(__dirname, '../../infra/node/register-paths.js'),
        join(__dirname, '../../dist/apps/tracker/src/rebuild/rebuild.cli.js'),
      ],
      {
        cwd: join(__dirname, '../..'),
        env: {
          ...process.env,
          DATABASE_URL: stack.databaseUrl,
          KAFKA_TOPIC_PREFIX: stack.topicPrefix,
          KAFKA_BROKERS: stack.brokers.join(','),
          LOG_LEVEL: 'warn',
        },
      },
    );
    expect(stdout).toContain('REBUILD EQUAL');
    for (const table of ['timeline_entries', 'alerts', 'publications', 'tasks', 'withdrawal_delays']) {
      const line = stdout.split('\n').find((l) => l.startsWith(table))!;
      const [, liveRows, builtRows, liveDigest, builtDigest, verdict] = line.trim().split(/\s+/);
      expect({ table, liveRows, liveDigest, verdict }).toEqual({
        table,
        liveRows: builtRows,
        liveDigest: builtDigest,
        verdict: 'equal',
      });
    }
    expect(stdout).toMatch(/figures \(sha256\)\s+live\s+([0-9a-f]{64})\n\s+rebuilt\s+\1\s+equal/);
  });

  it('prints in the PDF the same figures the API gives (pdftotext)', async () => {
    const p = await period();
    const res = await fetch(`${stack.url('tracker')}/api/v1/committee/export/report.pdf?${query}`, {
      headers: stack.bearer('comite'),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const dir = mkdtempSync(join(tmpdir(), 'ar-pdf-'));
    const file = join(dir, 'informe.pdf');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const { stdout: text } = await run('pdftotext', ['-layout', file, '-']);
    const flat = text.replace(/\s+/g, ' ');
    // Table cells are compared without spacing: pdftotext's layout spacing varies with column widths.
    const bare = text.replace(/\s+/g, '');
    const has = (s: string) => expect(bare).toContain(s.replace(/\s+/g, ''));
    expect(flat).toContain('Comité Estatal del Protocolo «Alerta Rosa»');
    expect(flat).toContain('Definiciones');
    expect(flat).toMatch(new RegExp(`Alertas activadas en el periodo ${p.counts.total}`));
    expect(flat).toContain(`Localizada con vida ${p.counts.byOutcome.localizada_con_vida}`);
    for (const def of p.definitions.filter((x: any) => x.key in p.durations)) {
      const fig = p.durations[def.key];
      // The row: label, n, median, p90 — as the API gives them.
      has(`${def.label} ${formatCount(fig.n)} ${formatDuration(fig.median)} ${formatDuration(fig.p90)}`);
    }
    has(
      `24 h desde la activación ${p.locatedWithin24h.located} ${p.locatedWithin24h.eligible} ${formatShare(p.locatedWithin24h.share)}`,
    );
    has(
      `72 h desde la activación ${p.locatedWithin72h.located} ${p.locatedWithin72h.eligible} ${formatShare(p.locatedWithin72h.share)}`,
    );
    for (const a of p.areas) expect(flat).toContain(formatShare(a.shareOnTime));
    for (const a of p.accounts)
      has(
        `${a.handle} ${a.platform} ${a.publications} ${a.failed} ${formatShare(a.failureRate)} ${a.photoPosts} ${a.withdrawn} ${a.stillUp}`,
      );
  });

  it('exports one CSV row per alert and per task, with a dictionary of every column', async () => {
    const alerts = await fetch(`${stack.url('tracker')}/api/v1/committee/export/alerts.csv?${query}`, {
      headers: stack.bearer('comite'),
    });
    expect(alerts.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const alertLines = (await alerts.text())
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(alertLines).toHaveLength(23);
    const header = alertLines[0].split(',');
    const row = Object.fromEntries(alertLines[1].split(',').map((v, i) => [header[i], v]));
    expect(row).toMatchObject({
      folio: 'AR-2025-0100',
      resultado: 'localizada_con_vida',
      activada: '2025-03-01T12:00:00-06:00',
      seg_activacion_a_localizacion: '3600',
      seg_desactivacion_a_cierre: '240',
    });
    const tasksCsv = await fetch(`${stack.url('tracker')}/api/v1/committee/export/tasks.csv?${query}`, {
      headers: stack.bearer('comite'),
    });
    expect((await tasksCsv.text()).trim().split('\r\n')).toHaveLength(45);
    const dictionary = await fetch(`${stack.url('tracker')}/api/v1/committee/export/dictionary.csv`, {
      headers: stack.bearer('admin'),
    });
    const dict = (await dictionary.text()).replace(/^\uFEFF/, '');
    for (const column of header) expect(dict).toContain(`alerts.csv,${column},`);
    expect(
      (
        await fetch(`${stack.url('tracker')}/api/v1/committee/export/alerts.csv`, {
          headers: stack.bearer('area'),
        })
      ).status,
    ).toBe(403);
  });
});
