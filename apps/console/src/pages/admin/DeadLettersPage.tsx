import { useQueries } from '@tanstack/react-query';
import { apiOptional } from '../../api/client';
import { ErrorNote, Loading } from '../../components/Common';
import { formatDateTime } from '../../lib/time';

interface DeadLetters {
  service: string;
  total: number;
  items: {
    id: number;
    consumer: string;
    topic: string;
    partition: number;
    offset: string;
    key: string | null;
    error: string;
    attempts: number;
    deadLetteredAt: string;
  }[];
}

const SERVICES: [string, string][] = [
  ['intake', 'Alertas (intake)'],
  ['dissemination', 'Difusión'],
  ['coordination', 'Coordinación'],
  ['tracker', 'Seguimiento'],
];

/** Messages each service's consumer could not handle (kept in its dead_letters table and on <topic>.dlq). */
export default function DeadLettersPage() {
  const results = useQueries({
    queries: SERVICES.map(([s]) => ({
      queryKey: ['dead-letters', s],
      queryFn: () => apiOptional<DeadLetters>(`/api/v1/dead-letters/${s}`),
    })),
  });
  return (
    <section className="page" aria-labelledby="dl-title">
      <h1 id="dl-title">Mensajes fallidos (dead letters)</h1>
      <p className="muted">
        Eventos que un servicio no pudo procesar tras sus reintentos; la partición siguió adelante. El mensaje
        original está en el tema «.dlq».
      </p>
      {SERVICES.map(([s, label], i) => {
        const q = results[i];
        return (
          <section key={s} className="section card" data-service={s}>
            <h2>
              {label}: {q.data ? q.data.total : '…'}
            </h2>
            {q.isPending && <Loading />}
            <ErrorNote error={q.error} />
            {q.data === null && <p className="muted">Este servicio no publica aún su lista.</p>}
            {q.data && q.data.items.length === 0 && <p>Sin mensajes fallidos.</p>}
            {q.data && q.data.items.length > 0 && (
              <div className="table-wrap">
                <table className="table">
                  <caption className="visually-hidden">Mensajes fallidos de {label}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Cuándo</th>
                      <th scope="col">Tema</th>
                      <th scope="col">Partición / offset</th>
                      <th scope="col">Alerta</th>
                      <th scope="col">Intentos</th>
                      <th scope="col">Error</th>
                    </tr>
                  </thead>
                  <tbody>
                    {q.data.items.map((d) => (
                      <tr key={d.id}>
                        <td>{formatDateTime(d.deadLetteredAt)}</td>
                        <td>{d.topic}</td>
                        <td>
                          {d.partition} / {d.offset}
                        </td>
                        <td className="small">{d.key ?? '—'}</td>
                        <td>{d.attempts}</td>
                        <td className="small">{d.error.slice(0, 300)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        );
      })}
    </section>
  );
}
