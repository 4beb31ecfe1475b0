import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../../api/client';
import { useCoalescedRefetch } from '../../api/refetch';
import { ErrorNote, Loading } from '../../components/Common';
import { formatDateTime } from '../../lib/time';

interface Contact {
  name: string;
  emails: string[];
}
interface Area {
  id: string;
  name: string;
  emails: string[];
  supervisor?: Contact;
  members?: { name: string; email: string }[];
}
interface Directory {
  version: string;
  dutyOfficer: Contact;
  direccion: Contact;
  areas: Area[];
}

const split = (s: string) =>
  s
    .split(/[,\s]+/)
    .map((x) => x.trim())
    .filter(Boolean);

function Editor({
  label,
  initial,
  save,
}: {
  label: string;
  initial: { name?: string; emails: string[] };
  save: (v: { name?: string; emails: string[] }) => Promise<void>;
}) {
  const [emails, setEmails] = useState(initial.emails.join(', '));
  const [name, setName] = useState(initial.name ?? '');
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const id = label.replace(/\W+/g, '-').toLowerCase();
  return (
    <form
      className="inline-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        setSaved(false);
        try {
          await save({ ...(initial.name !== undefined ? { name } : {}), emails: split(emails) });
          setSaved(true);
        } catch (err) {
          setError(err);
        }
      }}
    >
      {initial.name !== undefined && (
        <div className="field">
          <label htmlFor={`${id}-name`}>Nombre ({label})</label>
          <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-emails`}>Correos ({label})</label>
        <input id={`${id}-emails`} value={emails} onChange={(e) => setEmails(e.target.value)} />
      </div>
      <button type="submit" className="button small">
        Guardar<span className="visually-hidden"> {label}</span>
      </button>
      {saved && (
        <span role="status" className="success-note">
          Guardado
        </span>
      )}
      <ErrorNote error={error} />
    </form>
  );
}

/** Area directory contacts (laid over config/areas.yaml), the shift's duty officer and the Dirección. */
export default function DirectoryPage() {
  const dir = useQuery({ queryKey: ['areas'], queryFn: () => api<Directory>('/api/v1/areas') });
  const changes = useQuery({
    queryKey: ['directory-changes'],
    queryFn: () =>
      api<{ changes: { id: number; entry: string; changedBy: string | null; changedAt: string }[] }>(
        '/api/v1/directory/changes?limit=20',
      ),
  });
  const refetch = useCoalescedRefetch();
  const after = async () => {
    await refetch(['areas']);
    await refetch(['directory-changes']);
  };
  if (dir.isPending) return <Loading />;
  if (dir.error) return <ErrorNote error={dir.error} />;
  const d = dir.data;
  return (
    <section className="page" aria-labelledby="dir-title">
      <h1 id="dir-title">Directorio de áreas</h1>
      <p className="muted">
        Versión del directorio: {d.version}. Los cambios valen para los correos y escalamientos que se decidan
        después.
      </p>
      <section className="section card">
        <h2>Guardia de la Unidad de Género y Dirección</h2>
        <Editor
          label="oficial de guardia"
          initial={d.dutyOfficer}
          save={async (v) => {
            await api('/api/v1/directory/duty-officer', { method: 'PUT', body: v });
            await after();
          }}
        />
        <Editor
          label="Dirección"
          initial={d.direccion}
          save={async (v) => {
            await api('/api/v1/directory/direccion', { method: 'PUT', body: v });
            await after();
          }}
        />
      </section>
      <section className="section">
        <h2>Áreas</h2>
        <ul className="card-list">
          {d.areas.map((a) => (
            <li key={a.id} className="card" data-area={a.id}>
              <h3>{a.name}</h3>
              {a.supervisor && (
                <p className="small">
                  Supervisión: {a.supervisor.name} ({a.supervisor.emails.join(', ')})
                </p>
              )}
              <Editor
                label={a.name}
                initial={{ emails: a.emails }}
                save={async (v) => {
                  await api(`/api/v1/areas/${a.id}/contacts`, { method: 'PUT', body: { emails: v.emails } });
                  await after();
                }}
              />
            </li>
          ))}
        </ul>
      </section>
      <section className="section">
        <h2>Cambios recientes</h2>
        <ol className="timeline">
          {(changes.data?.changes ?? []).map((c, i) => (
            <li key={c.id ?? i}>
              {formatDateTime(c.changedAt)} · {c.entry} {c.changedBy ? `· ${c.changedBy}` : ''}
            </li>
          ))}
        </ol>
      </section>
    </section>
  );
}
