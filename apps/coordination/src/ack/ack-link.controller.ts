import { Public } from '@alerta-rosa/auth';
import { ApiError } from '@alerta-rosa/http';
import { Controller, Get, HttpException, HttpStatus, Post, Query, Req, Res } from '@nestjs/common';
import { Request, Response } from 'express';
import { escapeHtml, oaxacaTime } from '../mail/mail.templates';
import { TaskService } from '../tasks/task.service';
import { AckLinkSigner } from './ack-link.signer';

const REFUSALS = {
  malformed: new ApiError(HttpStatus.BAD_REQUEST, 'ACK_LINK_INVALID', 'El enlace no es válido.'),
  bad_signature: new ApiError(HttpStatus.BAD_REQUEST, 'ACK_LINK_INVALID', 'El enlace no es válido.'),
  expired: new ApiError(
    HttpStatus.GONE,
    'ACK_LINK_EXPIRED',
    'El enlace venció; confirme desde el sistema o llame a la Unidad de Género.',
  ),
};

/**
 * The one-click acknowledge link of the assignment mail, usable from a phone without signing in.
 * GET shows the task and a confirmation button (mail scanners that prefetch links must not
 * acknowledge); POST acknowledges. The token is signed, expires, and is accepted once.
 * Browsers get HTML pages, other clients JSON.
 */
@Controller('api/v1/task-links')
export class AckLinkController {
  constructor(
    private readonly signer: AckLinkSigner,
    private readonly tasks: TaskService,
  ) {}

  @Public()
  @Get('acknowledge')
  async show(
    @Query('token') token: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.answer(req, res, async () => {
      const claims = this.verify(token);
      const { task, folio } = await this.tasks.get(null, claims.taskId);
      return {
        status: 200,
        json: {
          taskId: task.id,
          folio,
          title: task.title,
          areaName: task.area_name,
          state: task.state,
          ackDueAt: task.ack_due_at,
        },
        html: page(
          `Alerta Rosa ${folio}`,
          `<p><strong>${escapeHtml(task.area_name)}</strong></p><p>Tarea: ${escapeHtml(task.title)}</p>
<p>Confirme antes de: ${escapeHtml(oaxacaTime(new Date(task.ack_due_at)))}</p>
${
  task.state === 'assigned'
    ? `<form method="post" action="?token=${encodeURIComponent(token!)}"><button type="submit" style="font-size:20px;padding:14px 24px;background:#c2185b;color:#fff;border:0;border-radius:6px">Confirmar recepción</button></form>`
    : `<p>Esta tarea ya no espera confirmación (estado: ${escapeHtml(task.state)}).</p>`
}`,
        ),
      };
    });
  }

  @Public()
  @Post('acknowledge')
  async acknowledge(
    @Query('token') token: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.answer(req, res, async () => {
      const claims = this.verify(token);
      const task = await this.tasks.acknowledge(claims.taskId, {
        via: 'link',
        user: null,
        linkNonce: claims.nonce,
      });
      return {
        status: 200,
        json: {
          taskId: task.id,
          state: task.state,
          acknowledgedAt: new Date(task.acknowledged_at!).toISOString(),
        },
        html: page(
          'Recepción confirmada',
          `<p>Gracias. Se registró la confirmación de <strong>${escapeHtml(task.area_name)}</strong> para la tarea «${escapeHtml(task.title)}».</p>`,
        ),
      };
    });
  }

  private verify(token: string | undefined) {
    if (!token) throw REFUSALS.malformed;
    const check = this.signer.check(token);
    if (!check.ok) throw REFUSALS[check.reason];
    return check.claims;
  }

  private async answer(
    req: Request,
    res: Response,
    run: () => Promise<{ status: number; json: unknown; html: string }>,
  ): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    const wantsHtml = (req.headers.accept ?? '').includes('text/html');
    try {
      const out = await run();
      if (wantsHtml) res.status(out.status).type('html').send(out.html);
      else res.status(out.status).json(out.json);
    } catch (err) {
      if (!(err instanceof HttpException)) throw err;
      const body = err.getResponse() as { code: string; message: string };
      if (wantsHtml)
        res
          .status(err.getStatus())
          .type('html')
          .send(page('No se pudo confirmar', `<p>${escapeHtml(body.message)}</p>`));
      else res.status(err.getStatus()).json(body);
    }
  }
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="es-MX"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(
    title,
  )}</title></head><body style="font-family:Arial,Helvetica,sans-serif;max-width:480px;margin:0 auto;padding:16px"><h2 style="color:#c2185b">${escapeHtml(
    title,
  )}</h2>${body}</body></html>`;
}
