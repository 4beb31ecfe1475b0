import { Public, Roles } from '@alerta-rosa/auth';
import { ApiError } from '@alerta-rosa/http';
import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Req,
  Res,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Request, Response } from 'express';
import { createReadStream } from 'fs';
import { stat } from 'fs/promises';
import { reply, uuidPipe, writeContext } from '../alerts/alert.controller';
import { Actor, CurrentActor } from '../common/actor';
import { PHOTO_VARIANTS, PhotoVariantName } from './photo.processor';
import { PhotoService } from './photo.service';
import { PhotoStorage } from './photo.storage';
import { PhotoUploadInterceptor } from './photo-upload.interceptor';

@ApiTags('fotos')
@ApiBearerAuth()
@Controller('api/v1/alerts/:id/photos')
export class PhotoController {
  constructor(private readonly photos: PhotoService) {}

  @Post()
  @Roles('operadora', 'admin')
  @HttpCode(201)
  @UseInterceptors(PhotoUploadInterceptor)
  @ApiOperation({
    summary:
      'Sube una foto (JPEG/PNG/WebP ≤ 10 MB; requiere photoConsent). Se revisa por contenido, se quitan EXIF/GPS y se guardan variantes.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['photo'],
      properties: {
        photo: { type: 'string', format: 'binary' },
        altText: { type: 'string', maxLength: 1000 },
      },
    },
  })
  async upload(
    @Param('id', uuidPipe) id: string,
    @UploadedFile() file: { buffer: Buffer } | undefined,
    @Body() body: Record<string, unknown> | undefined,
    @CurrentActor() actor: Actor,
    @Headers() headers: Record<string, string | undefined>,
    @Res({ passthrough: true }) res: Response,
  ) {
    const altText = typeof body?.altText === 'string' ? body.altText : undefined;
    return reply(res, await this.photos.add(id, file?.buffer, altText, writeContext(actor, headers)));
  }

  @Delete(':photoId')
  @Roles('operadora', 'admin')
  @ApiOperation({ summary: 'Retira una foto: deja de servirse y se borran sus archivos' })
  async withdraw(
    @Param('id', uuidPipe) id: string,
    @Param('photoId', uuidPipe) photoId: string,
    @CurrentActor() actor: Actor,
    @Headers() headers: Record<string, string | undefined>,
  ) {
    return this.photos.withdraw(id, photoId, writeContext(actor, headers));
  }
}

const VARIANT_FILES = new Map<string, PhotoVariantName>(PHOTO_VARIANTS.map((v) => [`${v.name}.jpg`, v.name]));

/** Public photo URLs (used in posts and the CAP feed). Withdrawn photos answer 404 at once. */
@ApiTags('fotos')
@Controller('public/photos')
export class PublicPhotoController {
  constructor(
    private readonly photos: PhotoService,
    private readonly storage: PhotoStorage,
  ) {}

  @Get(':photoId/:file')
  @Public()
  @ApiOperation({ summary: 'Foto pública (full.jpg, medium.jpg, thumb.jpg) mientras no se retire' })
  async serve(
    @Param('photoId', uuidPipe) photoId: string,
    @Param('file') file: string,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    const variant = VARIANT_FILES.get(file);
    const notFound = new ApiError(
      HttpStatus.NOT_FOUND,
      'PHOTO_NOT_FOUND',
      'La foto no existe o fue retirada.',
    );
    if (!variant || !(await this.photos.isServable(photoId))) throw notFound;
    const path = this.storage.pathOf(photoId, variant);
    const info = await stat(path).catch(() => null);
    if (!info) throw notFound;
    // Caches may keep it but must ask us before every use (a photo never changes under its id, so the
    // answer is a cheap 304): once withdrawn, it stops being shown at once, not after a max-age.
    const etag = `"${photoId}-${variant}"`;
    res.setHeader('Cache-Control', 'public, no-cache');
    res.setHeader('ETag', etag);
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return;
    }
    res.setHeader('Content-Type', 'image/jpeg');
    res.setHeader('Content-Length', String(info.size));
    createReadStream(path).pipe(res);
  }
}
