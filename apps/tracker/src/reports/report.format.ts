/** How the printed report writes figures (the tests format the API's numbers the same way). */

/** Seconds as people read them: «45 s», «12 min 05 s», «3 h 20 min», «2 d 4 h»; «—» when there is none. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3_600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  if (s < 172_800)
    return `${Math.floor(s / 3_600)} h ${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3_600)} h`;
}

/** A share as a percentage with one decimal: «45.5 %»; «—» when nothing could be judged. */
export function formatShare(share: number | null | undefined): string {
  if (share === null || share === undefined) return '—';
  return `${(Math.round(share * 1000) / 10).toFixed(1)} %`;
}

const integer = new Intl.NumberFormat('es-MX', { maximumFractionDigits: 0 });

export function formatCount(n: number): string {
  return integer.format(n);
}
