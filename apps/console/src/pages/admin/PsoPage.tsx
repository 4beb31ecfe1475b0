import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/client';
import { ErrorNote, Loading } from '../../components/Common';
import { formatDateTime } from '../../lib/time';

interface PsoVersion {
  version: string;
  effectiveFrom: string;
  steps: {
    id: string;
    order?: number;
    area: { kind: string; id?: string; of?: string };
    title: string;
    instructions: string;
    ackWithinMinutes: number;
    completeWithinMinutes: number;
    when?: Record<string, unknown>;
  }[];
  escalation?: unknown;
}

function areaOf(a: { kind: string; id?: string; of?: string }): string {
  if (a.kind === 'area') return a.id ?? '';
  if (a.kind === 'regional_delegation')
    return `Delegación regional (${a.of ?? ''}) de la región donde se le vio`;
  return 'Unidad «Mujer Segura» del municipio';
}

const WHEN: Record<string, string> = {
  mujerSeguraUnit: 'municipio con unidad «Mujer Segura»',
  minor: 'menores de edad',
  regions: 'regiones',
};

/** The PSO versions (data under config/pso/, read-only here) and which one is in force. */
export default function PsoPage() {
  const pso = useQuery({
    queryKey: ['pso'],
    queryFn: () => api<{ inForce: string; versions: PsoVersion[] }>('/api/v1/pso/versions'),
  });
  if (pso.isPending) return <Loading />;
  if (pso.error) return <ErrorNote error={pso.error} />;
  return (
    <section className="page" aria-labelledby="pso-title">
      <h1 id="pso-title">Versiones del PSO «Alerta Rosa»</h1>
      <p className="muted">
        Solo lectura: las versiones se editan como datos (config/pso/). Las tareas conservan la versión
        vigente al activar.
      </p>
      {pso.data.versions.map((v) => (
        <section key={v.version} className="section card">
          <h2>
            Versión {v.version}{' '}
            {v.version === pso.data.inForce && <span className="badge badge-posted">vigente</span>}
          </h2>
          <p className="small">Vigente desde {formatDateTime(v.effectiveFrom)}</p>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Pasos de la versión {v.version}</caption>
              <thead>
                <tr>
                  <th scope="col">Paso</th>
                  <th scope="col">Área</th>
                  <th scope="col">Acción</th>
                  <th scope="col">Acuse</th>
                  <th scope="col">Concluir</th>
                  <th scope="col">Condición</th>
                </tr>
              </thead>
              <tbody>
                {v.steps.map((s, i) => (
                  <tr key={s.id}>
                    <td>{s.order ?? i + 1}</td>
                    <td>{areaOf(s.area)}</td>
                    <td>
                      <strong>{s.title}</strong>
                      <div className="small">{s.instructions}</div>
                    </td>
                    <td>{s.ackWithinMinutes} min</td>
                    <td>{s.completeWithinMinutes} min</td>
                    <td className="small">
                      {s.when
                        ? Object.entries(s.when)
                            .map(
                              ([k, w]) =>
                                `${WHEN[k] ?? k}${Array.isArray(w) ? `: ${w.join(', ')}` : w === false ? ' (no)' : ''}`,
                            )
                            .join('; ')
                        : 'siempre'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </section>
  );
}
