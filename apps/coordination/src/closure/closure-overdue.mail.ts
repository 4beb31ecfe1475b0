import { AlertClosureOverdue } from '@alerta-rosa/contracts';
import { RenderedMail, oaxacaTime, paragraphs } from '../mail/mail.templates';

const PLATFORM_NAMES: Record<string, string> = { x: 'X', facebook: 'Facebook', webhook: 'webhook de aliado' };

/** To the Unidad de Género's duty officer: a deactivated alert is still not closed. No ficha data in it. */
export function renderClosureOverdue(p: AlertClosureOverdue & { officerName: string }): RenderedMail {
  const subject = `[Alerta Rosa ${p.folio}] Cierre vencido: la alerta desactivada sigue sin cerrarse`;
  const posts = p.missingPhotoPosts?.length
    ? p.missingPhotoPosts.map(
        (m) =>
          `${m.handle} (${PLATFORM_NAMES[m.platform] ?? m.platform}, cuenta «${m.accountId}»): ${
            m.state === 'posted'
              ? 'la publicación con su fotografía sigue en línea'
              : 'puede existir una publicación con su fotografía'
          }`,
      )
    : p.missingAccounts.map((a) => `cuenta «${a}»`);
  const lines = [
    `${p.officerName}: la Alerta Rosa ${p.folio} se desactivó el ${oaxacaTime(p.deactivatedAt)} y al ${oaxacaTime(p.flaggedAt)} aún no puede cerrarse.`,
    posts.length
      ? `Publicaciones con su fotografía pendientes de retiro: ${posts.join('; ')}.`
      : p.withdrawalPending
        ? 'Difusión aún no confirma el retiro de su fotografía en todas las cuentas.'
        : 'No quedan publicaciones con su fotografía pendientes de retiro.',
    p.openTasks > 0
      ? `Tareas del PSO aún abiertas: ${p.openTasks}. Las áreas deben concluirlas o quedar canceladas.`
      : 'No quedan tareas abiertas.',
    'Qué hacer: pida a Comunicación Social (o al área dueña de cada cuenta) que retire las publicaciones pendientes o renueve el acceso de la cuenta; consulte en el sistema qué falta para el cierre. Si el cierre debe hacerse a mano, la administración puede cerrarla indicando el motivo.',
  ];
  return paragraphs(subject, lines);
}
