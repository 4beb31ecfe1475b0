import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { api } from '../api/client';

export interface MunicipalityOption {
  code: string;
  name: string;
}

/**
 * Search among Oaxaca's 570 municipalities, accents and case ignored (the search runs in intake, on
 * the same catalogue that validates the ficha). ARIA combobox: arrows move, Enter picks, Escape closes.
 */
export function MunicipalityCombobox({
  id,
  value,
  onChange,
  invalid,
  describedBy,
}: {
  id: string;
  value: MunicipalityOption | null;
  onChange: (m: MunicipalityOption | null) => void;
  invalid?: boolean;
  describedBy?: string;
}) {
  const listId = useId();
  const [text, setText] = useState(value?.name ?? '');
  const [query, setQuery] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);

  useEffect(() => {
    const t = setTimeout(() => setQuery(text.trim()), 150);
    return () => clearTimeout(t);
  }, [text]);
  useEffect(() => setText(value?.name ?? ''), [value?.code, value?.name]);

  const results = useQuery({
    queryKey: ['municipalities', query],
    queryFn: () =>
      api<{ items: MunicipalityOption[] }>(`/api/v1/municipalities?q=${encodeURIComponent(query)}&limit=8`),
    enabled: open && query.length > 0,
    staleTime: Infinity,
  });
  const items = results.data?.items ?? [];

  const pick = (m: MunicipalityOption) => {
    onChange(m);
    setText(m.name);
    setOpen(false);
  };

  return (
    <div className="combobox">
      <input
        id={id}
        type="text"
        role="combobox"
        autoComplete="off"
        aria-autocomplete="list"
        aria-expanded={open && items.length > 0}
        aria-controls={listId}
        aria-activedescendant={open && items[active] ? `${listId}-${items[active].code}` : undefined}
        aria-invalid={invalid ? true : undefined}
        aria-describedby={describedBy}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
          setActive(0);
          if (value && e.target.value !== value.name) onChange(null);
        }}
        onFocus={() => text && setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setOpen(true);
            setActive((a) => Math.min(a + 1, Math.max(items.length - 1, 0)));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((a) => Math.max(a - 1, 0));
          } else if (e.key === 'Enter' && open && items[active]) {
            e.preventDefault();
            pick(items[active]);
          } else if (e.key === 'Escape') {
            setOpen(false);
          }
        }}
      />
      <ul
        id={listId}
        role="listbox"
        aria-label="Municipios"
        className="combobox-list"
        hidden={!open || items.length === 0}
      >
        {items.map((m, i) => (
          <li
            key={m.code}
            id={`${listId}-${m.code}`}
            role="option"
            aria-selected={i === active}
            className={i === active ? 'active' : undefined}
            onMouseDown={(e) => {
              e.preventDefault();
              pick(m);
            }}
          >
            {m.name} <span className="muted">({m.code})</span>
          </li>
        ))}
      </ul>
      {value && (
        <p className="hint">
          Seleccionado: {value.name} · clave INEGI {value.code}
        </p>
      )}
    </div>
  );
}
