import { useEffect, useRef, useState } from 'react';
import { api } from './client';

/** One event pushed by the gateway (see apps/gateway/src/live-event.ts). */
export interface LiveEvent {
  id: string;
  type: string;
  topic: 'alerts.v1' | 'publications.v1' | 'tasks.v1' | 'tracking.v1';
  alertId: string;
  occurredAt: string;
  producer: string;
  data: Record<string, any>;
}

export type LiveStatus = 'connecting' | 'live' | 'offline';

declare global {
  interface Window {
    /** Set by the benchmark (test/bench/console.bench.ts) to time each message as the page receives it. */
    __alertaRosaLive?: (event: LiveEvent, receivedAt: number) => void;
  }
}

/**
 * Server-sent events from the gateway for one alert (or, with null, every alert the role may see).
 * EventSource cannot send the bearer token, so each connection first asks for a short-lived, single-use
 * stream ticket (POST with the token) and puts it in the URL. On every (re)connection `onConnected`
 * runs, and the page refetches what it shows: events missed while disconnected are never lost to it.
 * The browser's own reconnection would reuse a spent ticket, so errors are handled here, with backoff.
 */
export function useLiveEvents(
  alertId: string | null,
  onEvent: (event: LiveEvent) => void,
  onConnected: () => void,
): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const eventRef = useRef(onEvent);
  const connectedRef = useRef(onConnected);
  eventRef.current = onEvent;
  connectedRef.current = onConnected;

  useEffect(() => {
    let source: EventSource | null = null;
    let closed = false;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const retry = () => {
      if (closed) return;
      setStatus('offline');
      attempt += 1;
      timer = setTimeout(connect, Math.min(500 * 2 ** attempt, 15_000));
    };

    async function connect(): Promise<void> {
      if (closed) return;
      let url: string;
      try {
        ({ url } = await api<{ url: string }>('/api/v1/stream-tickets', {
          method: 'POST',
          body: alertId ? { alertId } : {},
        }));
      } catch {
        return retry();
      }
      if (closed) return;
      const es = new EventSource(url);
      source = es;
      es.addEventListener('ready', () => {
        attempt = 0;
        setStatus('live');
        connectedRef.current();
      });
      es.onmessage = (m: MessageEvent<string>) => {
        let event: LiveEvent;
        try {
          event = JSON.parse(m.data) as LiveEvent;
        } catch {
          return;
        }
        window.__alertaRosaLive?.(event, Date.now());
        eventRef.current(event);
      };
      // The access token the stream was opened with expired: a new ticket with a refreshed token.
      es.addEventListener('expired', () => {
        es.close();
        void connect();
      });
      es.onerror = () => {
        es.close();
        if (source === es) source = null;
        retry();
      };
    }

    void connect();
    return () => {
      closed = true;
      clearTimeout(timer);
      source?.close();
    };
  }, [alertId]);

  return status;
}
