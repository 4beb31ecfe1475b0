import { ReactNode, useEffect, useState } from 'react';
import { Controller, FieldPath, useForm } from 'react-hook-form';
import { ApiError } from '../api/client';
import { Alert } from '../api/types';
import { isoToWallTime, wallTimeToIso } from '../lib/time';
import { MunicipalityCombobox, MunicipalityOption } from './MunicipalityCombobox';

export interface FichaValues {
  fullName: string;
  age: string;
  gender: string;
  heightCm: string;
  build: string;
  complexion: string;
  hair: string;
  eyes: string;
  distinguishingMarks: string;
  clothing: string;
  municipality: MunicipalityOption | null;
  locality: string;
  lastSeenAt: string;
  lastSeenPlace: string;
  description: string;
  circumstances: string;
  contactPhones: string;
  amberFolio: string;
  indigenousLanguage: string;
  activatingBody: string;
  photoConsent: boolean;
  photoAltText: string;
  reportedAt: string;
  private: {
    reporterName: string;
    reporterPhone: string;
    reporterEmail: string;
    relationship: string;
    investigationFolder: string;
    healthConditions: string;
    medication: string;
    socialProfiles: string;
    internalNotes: string;
  };
}

export type FichaAction = 'draft' | 'activate' | 'save';

const TEXT_FIELDS = [
  'gender',
  'build',
  'complexion',
  'hair',
  'eyes',
  'distinguishingMarks',
  'clothing',
  'locality',
  'lastSeenPlace',
  'description',
  'circumstances',
  'amberFolio',
  'indigenousLanguage',
  'photoAltText',
] as const;
const PRIVATE_TEXT = [
  'reporterName',
  'reporterPhone',
  'reporterEmail',
  'relationship',
  'investigationFolder',
  'healthConditions',
  'medication',
  'internalNotes',
] as const;

export function emptyFicha(): FichaValues {
  return {
    fullName: '',
    age: '',
    gender: '',
    heightCm: '',
    build: '',
    complexion: '',
    hair: '',
    eyes: '',
    distinguishingMarks: '',
    clothing: '',
    municipality: null,
    locality: '',
    lastSeenAt: '',
    lastSeenPlace: '',
    description: '',
    circumstances: '',
    contactPhones: '911, 089',
    amberFolio: '',
    indigenousLanguage: '',
    activatingBody: 'SSP',
    photoConsent: false,
    photoAltText: '',
    reportedAt: isoToWallTime(new Date().toISOString()),
    private: {
      reporterName: '',
      reporterPhone: '',
      reporterEmail: '',
      relationship: '',
      investigationFolder: '',
      healthConditions: '',
      medication: '',
      socialProfiles: '',
      internalNotes: '',
    },
  };
}

export function fichaFromAlert(a: Alert): FichaValues {
  const f = a.ficha;
  const v = emptyFicha();
  return {
    ...v,
    fullName: f.fullName,
    age: String(f.age),
    heightCm: f.heightCm ? String(f.heightCm) : '',
    ...Object.fromEntries(TEXT_FIELDS.map((k) => [k, (f[k] as string | null | undefined) ?? ''])),
    municipality: { code: f.municipalityCode, name: f.municipalityName },
    lastSeenAt: isoToWallTime(f.lastSeenAt),
    contactPhones: (f.contactPhones ?? []).join(', '),
    activatingBody: f.activatingBody ?? a.activatingBody ?? 'SSP',
    photoConsent: f.photoConsent ?? false,
    reportedAt: isoToWallTime(a.reportedAt),
  } as FichaValues;
}

/**
 * The request body. Creating: empty fields are left out. Editing: only the fields changed, an emptied
 * one sent as null (cleared); the private part only when something was typed in it.
 */
export function fichaPayload(
  v: FichaValues,
  dirty?: Partial<Record<keyof FichaValues, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const editing = dirty !== undefined;
  const wanted = (k: keyof FichaValues) => !editing || Boolean(dirty[k]);
  const text = (k: (typeof TEXT_FIELDS)[number]) => {
    if (!wanted(k)) return;
    const t = v[k].trim();
    if (t) out[k] = t;
    else if (editing) out[k] = null;
  };
  if (wanted('fullName')) out.fullName = v.fullName.trim();
  if (wanted('age')) out.age = v.age.trim() === '' ? undefined : Number(v.age);
  if (wanted('heightCm')) out.heightCm = v.heightCm.trim() ? Number(v.heightCm) : editing ? null : undefined;
  TEXT_FIELDS.forEach(text);
  if (wanted('municipality') && v.municipality) out.municipalityCode = v.municipality.code;
  if (wanted('lastSeenAt')) out.lastSeenAt = wallTimeToIso(v.lastSeenAt) ?? v.lastSeenAt;
  if (wanted('reportedAt')) out.reportedAt = wallTimeToIso(v.reportedAt) ?? v.reportedAt;
  if (wanted('contactPhones')) {
    const phones = v.contactPhones
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (phones.length) out.contactPhones = phones;
  }
  if (wanted('activatingBody')) out.activatingBody = v.activatingBody;
  if (wanted('photoConsent')) out.photoConsent = v.photoConsent;
  const priv: Record<string, unknown> = {};
  for (const k of PRIVATE_TEXT) if (v.private[k].trim()) priv[k] = v.private[k].trim();
  const profiles = v.private.socialProfiles
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
  if (profiles.length) priv.socialProfiles = profiles;
  if (Object.keys(priv).length) out.private = priv;
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

/** API field paths → the form's fields. */
function formPath(apiPath: string): FieldPath<FichaValues> | 'photo' | null {
  if (apiPath === 'municipalityCode' || apiPath === 'municipalityName') return 'municipality';
  const [head, second] = apiPath.split('.');
  if (head === 'private' && second) return `private.${second}` as FieldPath<FichaValues>;
  if (head === 'contactPhones') return 'contactPhones';
  const known: string[] = [
    ...TEXT_FIELDS,
    'fullName',
    'age',
    'heightCm',
    'lastSeenAt',
    'reportedAt',
    'photoConsent',
    'activatingBody',
  ];
  return known.includes(head) ? (head as FieldPath<FichaValues>) : null;
}

export function FichaForm({
  mode,
  initial,
  submit,
  children,
}: {
  mode: 'create' | 'edit';
  initial: FichaValues;
  submit: (payload: Record<string, unknown>, action: FichaAction, photo: File | null) => Promise<void>;
  children?: ReactNode;
}) {
  const {
    register,
    control,
    handleSubmit,
    setError,
    watch,
    reset,
    formState: { errors, isSubmitting, dirtyFields },
  } = useForm<FichaValues>({ defaultValues: initial });
  const [photo, setPhoto] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [photoError, setPhotoError] = useState<string | null>(null);
  const [general, setGeneral] = useState<string[]>([]);
  const age = Number(watch('age'));
  const consent = watch('photoConsent');
  const minor = Number.isFinite(age) && watch('age') !== '' && age < 18;

  useEffect(() => reset(initial), [initial, reset]);
  useEffect(() => {
    if (!photo) return setPreview(null);
    const url = URL.createObjectURL(photo);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [photo]);

  const run = (action: FichaAction) =>
    handleSubmit(async (values) => {
      setGeneral([]);
      setPhotoError(null);
      if (photo && !values.photoConsent) {
        setPhotoError('Para subir la fotografía se necesita el consentimiento de la familia.');
        return;
      }
      try {
        await submit(
          fichaPayload(values, mode === 'edit' ? (dirtyFields as never) : undefined),
          action,
          photo,
        );
      } catch (err) {
        if (!(err instanceof ApiError)) {
          setGeneral(['No se pudo guardar; revise la conexión e intente de nuevo.']);
          return;
        }
        if (err.code.startsWith('PHOTO_')) {
          setPhotoError(err.message);
          return;
        }
        const rest: string[] = [];
        for (const f of err.fields) {
          const path = formPath(f.path);
          if (path === 'photo') setPhotoError(f.message);
          else if (path) setError(path, { type: 'server', message: f.message });
          else rest.push(`${f.path}: ${f.message}`);
        }
        setGeneral([err.message, ...rest]);
      }
    });

  const fieldError = (name: string, message?: string) =>
    message ? (
      <p id={`${name}-error`} className="field-error">
        {message}
      </p>
    ) : null;

  const text = (
    name: FieldPath<FichaValues>,
    label: string,
    opts: {
      required?: boolean;
      textarea?: boolean;
      type?: string;
      hint?: string;
      inputMode?: 'numeric' | 'tel';
    } = {},
  ) => {
    const id = `f-${name.replace('.', '-')}`;
    const err = name.startsWith('private.')
      ? (errors.private as Record<string, { message?: string }> | undefined)?.[name.slice(8)]?.message
      : (errors as Record<string, { message?: string }>)[name]?.message;
    const describedBy =
      [err ? `${id}-error` : null, opts.hint ? `${id}-hint` : null].filter(Boolean).join(' ') || undefined;
    const common = {
      id,
      'aria-invalid': err ? true : undefined,
      'aria-describedby': describedBy,
      'aria-required': opts.required ? true : undefined,
      ...register(
        name,
        opts.required && mode === 'create' ? { required: `Indique: ${label.toLowerCase()}` } : {},
      ),
    };
    return (
      <div className="field">
        <label htmlFor={id}>
          {label}
          {opts.required && <span aria-hidden="true"> *</span>}
        </label>
        {opts.textarea ? (
          <textarea rows={3} {...common} />
        ) : (
          <input type={opts.type ?? 'text'} inputMode={opts.inputMode} {...common} />
        )}
        {opts.hint && (
          <p id={`${id}-hint`} className="hint">
            {opts.hint}
          </p>
        )}
        {fieldError(id, err)}
      </div>
    );
  };

  return (
    <form className="ficha-form" noValidate onSubmit={run(mode === 'create' ? 'activate' : 'save')}>
      <fieldset className="card public-part">
        <legend>Parte pública de la ficha (se publica)</legend>
        <div className="grid">
          {text('fullName', 'Nombre completo', { required: true })}
          {text('age', 'Edad', { required: true, type: 'number', inputMode: 'numeric' })}
          {text('gender', 'Sexo / género')}
          {text('heightCm', 'Estatura (cm)', { type: 'number', inputMode: 'numeric' })}
          {text('build', 'Complexión')}
          {text('complexion', 'Tez')}
          {text('hair', 'Cabello')}
          {text('eyes', 'Ojos')}
        </div>
        {minor && (
          <div className="amber" role="note">
            <strong>Menor de edad: también es un caso de Alerta Amber.</strong>
            {text('amberFolio', 'Folio Alerta Amber (si existe)')}
          </div>
        )}
        <div className="grid">
          {text('distinguishingMarks', 'Señas particulares', { textarea: true })}
          {text('clothing', 'Vestimenta cuando se le vio por última vez', { textarea: true })}
        </div>
        <div className="grid">
          <div className="field">
            <label htmlFor="f-municipality">
              Municipio donde se le vio por última vez<span aria-hidden="true"> *</span>
            </label>
            <Controller
              control={control}
              name="municipality"
              rules={{ validate: (m) => (m ? true : 'Elija el municipio de la lista') }}
              render={({ field }) => (
                <MunicipalityCombobox
                  id="f-municipality"
                  value={field.value}
                  onChange={field.onChange}
                  invalid={Boolean(errors.municipality)}
                  describedBy={errors.municipality ? 'f-municipality-error' : undefined}
                />
              )}
            />
            {fieldError('f-municipality', errors.municipality?.message)}
          </div>
          {text('locality', 'Localidad o colonia')}
          {text('lastSeenAt', 'Última vez vista (hora de Oaxaca)', {
            required: true,
            type: 'datetime-local',
          })}
          {text('lastSeenPlace', 'Lugar de referencia')}
        </div>
        <div className="grid">
          {text('circumstances', 'Circunstancias (breve)', { textarea: true })}
          {text('description', 'Descripción adicional', { textarea: true })}
          {text('contactPhones', 'Teléfonos de contacto públicos', {
            hint: 'Separados por comas (911, 089, línea de la SSP)',
          })}
          {text('indigenousLanguage', 'Lengua indígena que habla')}
          <div className="field">
            <label htmlFor="f-activatingBody">Instancia que activa</label>
            <select id="f-activatingBody" {...register('activatingBody')}>
              <option value="SSP">SSP (Unidad de Género)</option>
              <option value="FGEO">FGEO (Fiscalía General del Estado)</option>
            </select>
          </div>
          {text('reportedAt', 'Reporte de la familia (hora de Oaxaca)', {
            required: true,
            type: 'datetime-local',
          })}
        </div>
        <fieldset className="photo">
          <legend>Fotografía</legend>
          <div className="field checkbox">
            <input id="f-photoConsent" type="checkbox" {...register('photoConsent')} />
            <label htmlFor="f-photoConsent">La familia autorizó publicar la fotografía</label>
          </div>
          <div className="field">
            <label htmlFor="f-photo">Archivo de la fotografía (JPEG, PNG o WebP, hasta 10 MB)</label>
            <input
              id="f-photo"
              type="file"
              accept="image/jpeg,image/png,image/webp"
              disabled={!consent}
              aria-describedby={photoError ? 'f-photo-error' : 'f-photo-hint'}
              aria-invalid={photoError ? true : undefined}
              onChange={(e) => setPhoto(e.target.files?.[0] ?? null)}
            />
            <p id="f-photo-hint" className="hint">
              {consent
                ? 'Se quitan los metadatos (GPS, EXIF) antes de guardarla.'
                : 'Marque el consentimiento para elegir la foto.'}
            </p>
            {photoError && (
              <p id="f-photo-error" className="field-error" role="alert">
                {photoError}
              </p>
            )}
          </div>
          {preview && (
            <img className="photo-preview" src={preview} alt="Vista previa de la fotografía elegida" />
          )}
          {text('photoAltText', 'Descripción de la foto para lectores de pantalla')}
        </fieldset>
      </fieldset>

      <fieldset className="card private-part">
        <legend>Parte privada (nunca se publica; cada lectura queda en la bitácora)</legend>
        {mode === 'edit' && <p className="hint">Solo se cambian los campos que escriba aquí.</p>}
        <div className="grid">
          {text('private.reporterName', 'Persona que reporta')}
          {text('private.reporterPhone', 'Teléfono de quien reporta', { type: 'tel', inputMode: 'tel' })}
          {text('private.reporterEmail', 'Correo de quien reporta', { type: 'email' })}
          {text('private.relationship', 'Parentesco')}
          {text('private.investigationFolder', 'Carpeta de investigación')}
          {text('private.healthConditions', 'Condiciones de salud', { textarea: true })}
          {text('private.medication', 'Medicamentos', { textarea: true })}
          {text('private.socialProfiles', 'Perfiles en redes sociales', {
            textarea: true,
            hint: 'Uno por renglón',
          })}
          {text('private.internalNotes', 'Notas internas', { textarea: true })}
        </div>
      </fieldset>

      {general.length > 0 && (
        <div role="alert" className="error-note">
          {general.map((g) => (
            <p key={g}>{g}</p>
          ))}
        </div>
      )}
      <div className="actions">
        {mode === 'create' ? (
          <>
            <button type="submit" className="button" disabled={isSubmitting}>
              {isSubmitting ? 'Activando…' : 'Activar alerta'}
            </button>
            <button type="button" className="button secondary" disabled={isSubmitting} onClick={run('draft')}>
              Guardar borrador
            </button>
          </>
        ) : (
          <button type="submit" className="button" disabled={isSubmitting}>
            {isSubmitting ? 'Guardando…' : 'Guardar cambios'}
          </button>
        )}
        {children}
      </div>
    </form>
  );
}
