import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../../api/client';
import { useCoalescedRefetch } from '../../api/refetch';
import { Badge, ErrorNote, Loading } from '../../components/Common';
import { PLATFORM_LABELS } from '../../lib/labels';
import { formatDateTime } from '../../lib/time';

interface Account {
  id: string;
  platform: 'x' | 'facebook' | 'webhook';
  handle: string;
  displayName: string;
  ownerArea: string;
  regions: string[];
  enabled: boolean;
  hasCredentials: boolean;
  credentialsUpdatedAt: string | null;
  status: 'ok' | 'auth_revoked';
  statusReason: string | null;
  statusChangedAt: string | null;
}

const CREDENTIAL_FIELDS: Record<Account['platform'], string[]> = {
  x: ['consumerKey', 'consumerSecret', 'accessToken', 'accessSecret', 'userId'],
  facebook: ['pageId', 'pageAccessToken'],
  webhook: ['url', 'secret'],
};

function Rotate({ account, done }: { account: Account; done: () => void }) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="rotate"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await api(`/api/v1/accounts/${account.id}/credentials`, {
            method: 'PUT',
            body: { credentials: values },
          });
          done();
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      {CREDENTIAL_FIELDS[account.platform].map((f) => (
        <div className="field" key={f}>
          <label htmlFor={`cred-${account.id}-${f}`}>{f}</label>
          <input
            id={`cred-${account.id}-${f}`}
            type={/secret|token/i.test(f) ? 'password' : 'text'}
            autoComplete="off"
            value={values[f] ?? ''}
            onChange={(e) => setValues({ ...values, [f]: e.target.value })}
          />
        </div>
      ))}
      <button type="submit" className="button small" disabled={busy}>
        Guardar credenciales
      </button>
      <ErrorNote error={error} />
    </form>
  );
}

/** The 30 official accounts: enable/disable, rotate credentials, see which fail and why. */
export default function AccountsPage() {
  const accounts = useQuery({
    queryKey: ['accounts'],
    queryFn: () => api<{ accounts: Account[] }>('/api/v1/accounts'),
  });
  const refetch = useCoalescedRefetch();
  const [rotating, setRotating] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const list = accounts.data?.accounts ?? [];
  const failing = list.filter((a) => a.status !== 'ok' || !a.hasCredentials);

  const toggle = async (a: Account) => {
    setError(null);
    try {
      await api(`/api/v1/accounts/${a.id}`, { method: 'PATCH', body: { enabled: !a.enabled } });
      await refetch(['accounts']);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section className="page" aria-labelledby="accounts-title">
      <h1 id="accounts-title">Cuentas oficiales</h1>
      {accounts.isPending && <Loading />}
      <ErrorNote error={accounts.error ?? error} />
      {accounts.data && (
        <p className="summary">
          {list.length} cuentas · {list.filter((a) => a.enabled).length} habilitadas ·{' '}
          <strong>{failing.length} con fallas</strong> (credenciales revocadas o ausentes)
        </p>
      )}
      <div className="table-wrap">
        <table className="table">
          <caption className="visually-hidden">Cuentas oficiales</caption>
          <thead>
            <tr>
              <th scope="col">Cuenta</th>
              <th scope="col">Plataforma</th>
              <th scope="col">Área</th>
              <th scope="col">Estado</th>
              <th scope="col">Credenciales</th>
              <th scope="col">Acciones</th>
            </tr>
          </thead>
          <tbody>
            {list.map((a) => (
              <tr key={a.id} data-account={a.id}>
                <td>
                  <strong>{a.handle}</strong>
                  <div className="small muted">{a.displayName}</div>
                </td>
                <td>{PLATFORM_LABELS[a.platform]}</td>
                <td>{a.ownerArea}</td>
                <td>
                  {!a.enabled ? (
                    <Badge tone="cancelled">deshabilitada</Badge>
                  ) : a.status === 'auth_revoked' ? (
                    <Badge tone="failed">credenciales revocadas</Badge>
                  ) : (
                    <Badge tone="posted">en servicio</Badge>
                  )}
                  {a.statusReason && <div className="small">{a.statusReason}</div>}
                  {a.statusChangedAt && (
                    <div className="small muted">{formatDateTime(a.statusChangedAt)}</div>
                  )}
                </td>
                <td>
                  {a.hasCredentials ? (
                    `renovadas ${formatDateTime(a.credentialsUpdatedAt)}`
                  ) : (
                    <Badge tone="failed">sin credenciales</Badge>
                  )}
                </td>
                <td className="row-actions">
                  <button type="button" className="button secondary small" onClick={() => void toggle(a)}>
                    {a.enabled ? 'Deshabilitar' : 'Habilitar'}
                    <span className="visually-hidden"> {a.handle}</span>
                  </button>
                  <button
                    type="button"
                    className="button secondary small"
                    aria-expanded={rotating === a.id}
                    onClick={() => setRotating(rotating === a.id ? null : a.id)}
                  >
                    Renovar credenciales<span className="visually-hidden"> de {a.handle}</span>
                  </button>
                  {rotating === a.id && (
                    <Rotate
                      account={a}
                      done={() => {
                        setRotating(null);
                        void refetch(['accounts']);
                      }}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
