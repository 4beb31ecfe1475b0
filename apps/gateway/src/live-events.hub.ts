import { ServerResponse } from 'http';
import type { Logger } from 'pino';
import { LiveEvent, visibleTo } from './live-event';
import { TicketClaims } from './stream-ticket';

interface Subscriber {
  res: ServerResponse;
  claims: TicketClaims;
  ping: NodeJS.Timeout;
  expiry: NodeJS.Timeout;
}

/**
 * The open server-sent-event streams of this gateway process, and the fan-out of each event to the
 * streams allowed to see it. A live push only: nothing is stored, nothing is replayed; a page that
 * (re)connects refetches what it shows, so an event missed while disconnected is never lost to it.
 */
export class LiveEventsHub {
  private readonly subscribers = new Set<Subscriber>();

  constructor(
    private readonly logger: Logger,
    private readonly pingMs: number,
    private readonly maxBufferedBytes: number,
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  /** Takes over the response: headers for SSE through proxies, a ping every pingMs, the end at `until`. */
  open(res: ServerResponse, claims: TicketClaims): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      // No compression, no caching, no proxy buffering: every message must leave at once.
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    });
    res.socket?.setNoDelay(true);
    res.socket?.setKeepAlive(true, 30_000);
    res.write(`retry: 3000\n\n`);
    res.write(
      `event: ready\ndata: ${JSON.stringify({ alertId: claims.alertId, at: new Date().toISOString() })}\n\n`,
    );
    const untilMs = Math.max(0, claims.until * 1000 - Date.now());
    const sub: Subscriber = {
      res,
      claims,
      ping: setInterval(() => this.write(sub, ': ping\n\n'), this.pingMs),
      // The stream never outlives the access token it was opened with.
      expiry: setTimeout(
        () => this.close(sub, 'event: expired\ndata: {}\n\n'),
        Math.min(untilMs, 2 ** 31 - 1),
      ),
    };
    this.subscribers.add(sub);
    res.on('close', () => this.drop(sub));
    this.logger.debug({ alertId: claims.alertId, role: claims.role, streams: this.size }, 'stream opened');
  }

  publish(event: LiveEvent): void {
    if (!this.subscribers.size) return;
    const frame = `id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`;
    for (const sub of this.subscribers) {
      if (sub.claims.alertId !== null && sub.claims.alertId !== event.alertId) continue;
      if (!visibleTo(sub.claims, event)) continue;
      this.write(sub, frame);
    }
  }

  /** Ends every stream (shutdown); EventSource reconnects to another replica or when this one is back. */
  closeAll(): void {
    for (const sub of [...this.subscribers]) this.close(sub, '');
  }

  private write(sub: Subscriber, frame: string): void {
    if (sub.res.writableLength > this.maxBufferedBytes) {
      // A client that does not read: drop it rather than buffer without bound; it reconnects and refetches.
      this.logger.warn({ alertId: sub.claims.alertId }, 'stream dropped: client not reading');
      sub.res.destroy();
      this.drop(sub);
      return;
    }
    sub.res.write(frame);
  }

  private close(sub: Subscriber, lastFrame: string): void {
    if (lastFrame) sub.res.write(lastFrame);
    sub.res.end();
    this.drop(sub);
  }

  private drop(sub: Subscriber): void {
    if (!this.subscribers.delete(sub)) return;
    clearInterval(sub.ping);
    clearTimeout(sub.expiry);
    this.logger.debug({ alertId: sub.claims.alertId, streams: this.size }, 'stream closed');
  }
}
