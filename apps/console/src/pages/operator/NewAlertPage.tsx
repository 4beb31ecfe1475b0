import { useState } from 'react';
import { useNavigate } from 'react-router';
import { fetchAlert, writeAlert } from '../../api/alerts';
import { request } from '../../api/client';
import { FichaAction, FichaForm, emptyFicha } from '../../components/FichaForm';

/** Uploads the photo to a draft (consent given), as intake requires before activation. */
export async function uploadPhoto(alertId: string, photo: File, altText?: unknown): Promise<void> {
  const form = new FormData();
  form.append('photo', photo);
  if (typeof altText === 'string' && altText) form.append('altText', altText);
  await request(`/api/v1/alerts/${alertId}/photos`, { method: 'POST', body: form });
}

export function NewAlertPage() {
  const navigate = useNavigate();
  const [initial] = useState(emptyFicha);
  const [draftId, setDraftId] = useState<string | null>(null);

  const submit = async (payload: Record<string, unknown>, action: FichaAction, photo: File | null) => {
    // With a photo: draft first, photo, then activation (the ficha's first publication carries it).
    let id = draftId;
    if (!id) {
      const created = await writeAlert(
        '/api/v1/alerts',
        'POST',
        { ...payload, activate: action === 'activate' && !photo },
        null,
      );
      id = created.alert.id;
      setDraftId(id);
      if (!photo) return navigate(`/alertas/${id}`);
    } else {
      await writeAlert(`/api/v1/alerts/${id}`, 'PATCH', payload, (await fetchAlert(id)).etag);
    }
    if (photo) await uploadPhoto(id, photo, payload.photoAltText);
    if (action === 'activate') {
      const { etag } = await fetchAlert(id);
      await writeAlert(`/api/v1/alerts/${id}/activate`, 'POST', undefined, etag);
    }
    navigate(`/alertas/${id}`);
  };

  return (
    <section className="page" aria-labelledby="new-title">
      <h1 id="new-title">Nueva alerta</h1>
      <p className="muted">
        Los campos con * son obligatorios. «Activar alerta» publica la ficha en las 30 cuentas oficiales y
        asigna las tareas del PSO a las áreas.
      </p>
      <FichaForm mode="create" initial={initial} submit={submit} />
    </section>
  );
}
