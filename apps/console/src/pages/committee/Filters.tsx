import { useForm } from 'react-hook-form';
import { OUTCOME_LABELS } from '../../lib/labels';
import { CommitteeFilters, EMPTY_FILTERS, REGIONS } from './committee';

export function Filters({
  value,
  onChange,
}: {
  value: CommitteeFilters;
  onChange: (f: CommitteeFilters) => void;
}) {
  const { register, handleSubmit, reset } = useForm<CommitteeFilters>({ defaultValues: value });
  return (
    <form className="card filters" onSubmit={handleSubmit(onChange)} aria-label="Filtros">
      <div className="grid">
        <div className="field">
          <label htmlFor="flt-from">Desde</label>
          <input id="flt-from" type="date" {...register('from')} />
        </div>
        <div className="field">
          <label htmlFor="flt-to">Hasta</label>
          <input id="flt-to" type="date" {...register('to')} />
        </div>
        <div className="field">
          <label htmlFor="flt-outcome">Resultado</label>
          <select id="flt-outcome" {...register('outcome')}>
            <option value="">Todos</option>
            {Object.entries(OUTCOME_LABELS).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
            <option value="open">abierta (aún activa)</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="flt-region">Región</label>
          <select id="flt-region" {...register('region')}>
            <option value="">Todas</option>
            {REGIONS.map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="flt-municipality">Municipio (clave INEGI)</label>
          <input id="flt-municipality" inputMode="numeric" {...register('municipality')} />
        </div>
        <div className="field">
          <label htmlFor="flt-avgm">Alerta de Violencia de Género</label>
          <select id="flt-avgm" {...register('avgm')}>
            <option value="">Indistinto</option>
            <option value="true">Municipio con AVGM</option>
            <option value="false">Sin AVGM</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="flt-minor">Edad</label>
          <select id="flt-minor" {...register('minor')}>
            <option value="">Todas</option>
            <option value="true">Menores (Alerta Amber)</option>
            <option value="false">Mayores de edad</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="flt-body">Instancia que activa</label>
          <select id="flt-body" {...register('activatingBody')}>
            <option value="">Todas</option>
            <option value="SSP">SSP</option>
            <option value="FGEO">FGEO</option>
          </select>
        </div>
      </div>
      <div className="actions">
        <button type="submit" className="button">
          Aplicar filtros
        </button>
        <button
          type="button"
          className="button secondary"
          onClick={() => {
            reset(EMPTY_FILTERS);
            onChange(EMPTY_FILTERS);
          }}
        >
          Limpiar
        </button>
      </div>
    </form>
  );
}
