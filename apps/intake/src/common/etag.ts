import { HttpStatus } from '@nestjs/common';
import { ApiError } from '@alerta-rosa/http';

/** Strong ETag of an alert's stored state: changes with every write (public or private, draft or active). */
export function alertEtag(revision: number): string {
  return `"r${revision}"`;
}

/**
 * Checks an If-Match header against the current revision. Absent header: no precondition (the
 * console always sends it; scripts may choose last-writer-wins). A stale one: 412, nothing changes.
 */
export function checkIfMatch(header: string | undefined, revision: number): void {
  if (header === undefined || header.trim() === '') return;
  const tags = header.split(',').map((t) => t.trim());
  if (tags.includes('*')) return;
  const current = alertEtag(revision);
  if (tags.some((t) => t === current || t === `W/${current}`)) return;
  if (!tags.every((t) => /^(W\/)?"[^"]*"$/.test(t))) {
    throw new ApiError(HttpStatus.BAD_REQUEST, 'INVALID_IF_MATCH', 'El encabezado If-Match no es válido.');
  }
  throw new ApiError(
    HttpStatus.PRECONDITION_FAILED,
    'STALE_VERSION',
    'La alerta cambió desde que la consultó; vuelva a cargarla y repita el cambio.',
  );
}
