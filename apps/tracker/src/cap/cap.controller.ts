import { Public } from '@alerta-rosa/auth';
import { ApiError, notFound } from '@alerta-rosa/http';
import { Controller, Get, HttpStatus, Param, Req, Res } from '@nestjs/common';
import { Request, Response } from 'express';
import { CAP_MIME, CapFeedService, RenderedDocument, strongEtag } from './cap-feed.service';
import { CapRepository } from './cap.repository';

/**
 * True when the client's copy is current: If-None-Match names the ETag (or `*`); without
 * If-None-Match, If-Modified-Since is not older than Last-Modified (HTTP dates have whole seconds).
 */
export function isNotModified(req: Request, doc: Pick<RenderedDocument, 'etag' | 'lastModified'>): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    return inm
      .split(',')
      .map((t) => t.trim().replace(/^W\//, ''))
      .some((t) => t === '*' || t === doc.etag);
  }
  const ims = req.headers['if-modified-since'];
  if (!ims) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Math.floor(doc.lastModified.getTime() / 1000) * 1000 <= since;
}

function send(req: Request, res: Response, doc: RenderedDocument, contentType: string, maxAge: number): void {
  res.setHeader('ETag', doc.etag);
  res.setHeader('Last-Modified', doc.lastModified.toUTCString());
  res.setHeader('Cache-Control', `public, max-age=${maxAge}`);
  if (isNotModified(req, doc)) {
    res.status(304).end();
    return;
  }
  res.status(200).setHeader('Content-Type', contentType);
  res.end(doc.body);
}

/** Public CAP feed for media partners, agencies and feed readers (no token). */
@Public()
@Controller('cap')
export class CapController {
  constructor(
    private readonly feed: CapFeedService,
    private readonly repository: CapRepository,
  ) {}

  /** Atom index of the active alerts (and those cancelled within the last 24 h). */
  @Get('alerts.atom')
  async alerts(@Req() req: Request, @Res() res: Response): Promise<void> {
    send(req, res, await this.feed.feed(), 'application/atom+xml; charset=utf-8', 60);
  }

  /** One CAP 1.2 message, exactly as issued. */
  @Get('messages/:file')
  async message(@Param('file') file: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const identifier = /^([A-Za-z0-9-]+)\.xml$/.exec(file)?.[1];
    if (!identifier) throw notFound('CAP_MESSAGE_NOT_FOUND', 'No existe ese mensaje CAP.');
    const stored = await this.repository.message(identifier);
    if (!stored) throw notFound('CAP_MESSAGE_NOT_FOUND', 'No existe ese mensaje CAP.');
    if (stored.xml === null) {
      throw new ApiError(
        HttpStatus.GONE,
        'CAP_MESSAGE_WITHDRAWN',
        'Este mensaje CAP fue retirado: la alerta concluyó y sus datos personales ya no se publican.',
      );
    }
    send(
      req,
      res,
      { body: stored.xml, etag: strongEtag(stored.xml), lastModified: new Date(stored.sent) },
      `${CAP_MIME}; charset=utf-8`,
      300,
    );
  }
}
