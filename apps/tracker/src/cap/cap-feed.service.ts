import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'crypto';
import { TrackerConfig } from '../tracker.config';
import { atomDateTime } from './cap-datetime';
import { capBaseUrl } from './cap.config';
import { CapRepository } from './cap.repository';
import { xmlDocument } from './xml-document';

export const ATOM_NAMESPACE = 'http://www.w3.org/2005/Atom';
export const CAP_MIME = 'application/cap+xml';

export interface RenderedDocument {
  body: string;
  etag: string;
  lastModified: Date;
}

export function messageUrl(base: string, identifier: string): string {
  return `${base}/cap/messages/${identifier}.xml`;
}

export function strongEtag(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/**
 * The public Atom (RFC 4287) index of the CAP messages: one entry per active alert — and per alert
 * cancelled within CAP_CANCELLED_VISIBLE_SECONDS — pointing to its latest message. Public fields only:
 * what the messages themselves carry.
 */
@Injectable()
export class CapFeedService {
  private readonly config: TrackerConfig;

  constructor(
    private readonly repository: CapRepository,
    @Inject(SERVICE_RUNTIME) runtime: ServiceRuntime<TrackerConfig>,
  ) {
    this.config = runtime.config;
  }

  async feed(): Promise<RenderedDocument> {
    const c = this.config;
    const base = capBaseUrl(c);
    const { entries, lastChange } = await this.repository.feed(c.CAP_CANCELLED_VISIBLE_SECONDS);
    // An empty feed that never changed still needs an `updated`: the epoch says «nothing yet».
    const updated = lastChange ?? new Date(0);
    const feedUrl = `${base}/cap/alerts.atom`;
    const links: Record<string, string>[] = [
      { '@_rel': 'self', '@_type': 'application/atom+xml', '@_href': feedUrl },
    ];
    if (c.CAP_WEB_URL) links.push({ '@_rel': 'alternate', '@_type': 'text/html', '@_href': c.CAP_WEB_URL });
    const feed = {
      '@_xmlns': ATOM_NAMESPACE,
      '@_xml:lang': 'es-MX',
      id: feedUrl,
      title: 'Alerta Rosa Oaxaca — alertas activas (CAP 1.2)',
      subtitle:
        'Mensajes CAP 1.2 de las Alertas Rosa activas en Oaxaca; las desactivadas permanecen 24 horas con su mensaje de cancelación.',
      updated: atomDateTime(updated),
      author: { name: c.CAP_SENDER_NAME },
      generator: 'Alerta Rosa (tracker)',
      link: links,
      entry: entries.map((e) => {
        const url = messageUrl(base, e.identifier);
        return {
          id: url,
          title: e.headline,
          updated: atomDateTime(new Date(e.sent)),
          published: atomDateTime(new Date(e.first_sent)),
          link: { '@_rel': 'alternate', '@_type': CAP_MIME, '@_href': url },
          category: { '@_term': e.msg_type, '@_label': e.status === 'cancelled' ? 'Desactivada' : 'Activa' },
          summary: e.summary || e.headline,
        };
      }),
    };
    const body = xmlDocument('feed', feed);
    return { body, etag: strongEtag(body), lastModified: updated };
  }
}
