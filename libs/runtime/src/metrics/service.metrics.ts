import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Sets one sample of a gauge being collected. */
export type SampleSetter<L extends string> = (
  labels: Partial<Record<L, string | number>>,
  value: number,
) => void;

/** Reads the current values of a gauge at scrape time (from the service's own tables, Kafka or Redis). */
export type GaugeReader<L extends string> = (set: SampleSetter<L>) => Promise<void>;

export const METRIC_PREFIX = 'alerta_rosa_';

/**
 * The Prometheus registry of one service process (prom-client), served at GET /metrics. Every sample
 * carries the label `service`. Besides Node's default process metrics it holds the HTTP latency
 * histogram (filled by a middleware) and gauges read at scrape time: they are computed from the
 * service's own tables, so the hot paths (publishing, tasks, consuming) are not instrumented at all.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly collectFailures: Counter<'metric'>;

  constructor(
    readonly service: string,
    /** A gauge whose reader takes longer than this is left empty for the scrape. */
    private readonly readTimeoutMs = 2_000,
  ) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.httpRequestDuration = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'HTTP request duration, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.collectFailures = new Counter({
      name: `${METRIC_PREFIX}metric_collect_failures_total`,
      help: 'Scrapes in which a gauge could not be read (its dependency failed or was too slow); the gauge is left empty.',
      labelNames: ['metric'],
      registers: [this.registry],
    });
  }

  /**
   * A gauge read at scrape time. The reader sets every sample afresh (samples it does not set
   * disappear); when it fails or times out the gauge is empty for that scrape and the failure counted.
   */
  gauge<L extends string>(name: string, help: string, labelNames: L[], read: GaugeReader<L>): Gauge<L> {
    const failures = this.collectFailures;
    const timeoutMs = this.readTimeoutMs;
    const gauge: Gauge<L> = new Gauge<L>({
      name: `${METRIC_PREFIX}${name}`,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        const samples: [Partial<Record<L, string | number>>, number][] = [];
        try {
          await withTimeout(
            read((labels, value) => samples.push([labels, value])),
            timeoutMs,
            name,
          );
        } catch {
          gauge.reset();
          failures.inc({ metric: `${METRIC_PREFIX}${name}` });
          return;
        }
        gauge.reset();
        for (const [labels, value] of samples) gauge.set(labels, value);
      },
    });
    return gauge;
  }

  counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter<L>({ name: `${METRIC_PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Resolves with the promise, or rejects after `ms` (the promise keeps running; its result is dropped). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}
