import { newId } from '@alerta-rosa/contracts';
import { ApiError } from '@alerta-rosa/http';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { createHash } from 'crypto';
import { DataSource } from 'typeorm';
import { AUDIT, AuditLog } from '../audit/audit.log';
import { Alert } from '../alerts/alert.entity';
import { assertTransition } from '../alerts/alert.lifecycle';
import { AlertService, WriteContext } from '../alerts/alert.service';
import { alertNotFound } from '../common/errors';
import { checkIfMatch } from '../common/etag';
import { StoredResponse } from '../idempotency/idempotency.service';
import { IntakeConfig } from '../intake.config';
import { PHOTO_VARIANTS, PhotoVariantName, processPhoto } from './photo.processor';
import { PhotoStorage } from './photo.storage';

export interface PhotoView {
  id: string;
  alertId: string;
  altText: string | null;
  variants: { name: PhotoVariantName; width: number; height: number; bytes: number; url: string }[];
  alert: { id: string; status: string; version: number; revision: number; photoUrl: string | null };
}

const consentRequired = () =>
  new ApiError(
    HttpStatus.CONFLICT,
    'PHOTO_CONSENT_REQUIRED',
    'Sin el consentimiento de la familia (photoConsent) no se guarda ni publica la foto.',
  );

/** Ficha photos: checked and normalised, stored on disk, served publicly until withdrawn. */
@Injectable()
export class PhotoService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly alerts: AlertService,
    private readonly storage: PhotoStorage,
    private readonly audit: AuditLog,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<IntakeConfig>,
  ) {}

  async add(
    alertId: string,
    file: Buffer | undefined,
    altText: string | undefined,
    ctx: WriteContext,
  ): Promise<StoredResponse<PhotoView>> {
    if (!file)
      throw new ApiError(HttpStatus.BAD_REQUEST, 'PHOTO_MISSING', 'Adjunte la foto en el campo «photo».');
    if (
      altText !== undefined &&
      (altText.trim().length === 0 || altText.length > 1000 || /[<>\u0000-\u001F]/.test(altText))
    ) {
      throw new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'La solicitud tiene datos inválidos.', [
        { path: 'altText', code: 'invalid', message: 'Texto alternativo de 1 a 1000 caracteres, sin < ni >' },
      ]);
    }
    // Cheap checks first: no image work for an alert that cannot take a photo.
    const alert = await this.dataSource.getRepository(Alert).findOneBy({ id: alertId });
    if (!alert) throw alertNotFound();
    assertTransition(alert.status, 'update');
    if (!alert.ficha.photoConsent) throw consentRequired();
    const processed = await processPhoto(file, {
      maxBytes: this.runtime.config.PHOTO_MAX_BYTES,
      maxPixels: this.runtime.config.PHOTO_MAX_PIXELS,
    });
    const digest = createHash('sha256').update(file).digest('hex');
    return this.alerts.withPhotoCleanup(async (replaced) => {
      let written: string | null = null;
      try {
        return await this.alerts.idempotent(
          ctx,
          `POST /api/v1/alerts/${alertId}/photos`,
          `${digest}|${altText ?? ''}`,
          async (m) => {
            const locked = await this.alerts.lock(m, alertId);
            assertTransition(locked.status, 'update');
            checkIfMatch(ctx.ifMatch, locked.revision);
            if (!locked.ficha.photoConsent) throw consentRequired();
            // On a published alert a new photo replaces the old one: the old one stops being served at
            // once (its posts are withdrawn by dissemination) and its files go after commit.
            if (locked.status === 'active') replaced.push(...(await this.alerts.withdrawPhotos(m, alertId)));
            const photoId = newId();
            written = photoId;
            await this.storage.write(photoId, processed.variants);
            const variants = processed.variants.map((v) => ({
              name: v.name,
              width: v.width,
              height: v.height,
              bytes: v.data.length,
              url: this.storage.publicUrl(photoId, v.name),
            }));
            await m.query(
              `INSERT INTO intake.photos (id, alert_id, status, alt_text, source_format, source_bytes, variants, created_by, created_at)
             VALUES ($1, $2, 'stored', $3, $4, $5, $6, $7, clock_timestamp())`,
              [
                photoId,
                alertId,
                altText?.trim() ?? null,
                processed.sourceFormat,
                processed.sourceBytes,
                JSON.stringify(variants),
                ctx.actor.id,
              ],
            );
            const next = this.alerts.fichas.build(
              { ...locked.ficha, ...(altText !== undefined ? { photoAltText: altText.trim() } : {}) },
              locked.reportedAt.toISOString(),
              { url: this.storage.publicUrl(photoId, 'full') },
            );
            const view = await this.alerts.applyChange(m, locked, next, ctx, {
              photoId,
              photosWithdrawn: replaced.length,
            });
            return {
              status: 201,
              body: {
                id: photoId,
                alertId,
                altText: view.ficha.photoAltText ?? null,
                variants,
                alert: {
                  id: alertId,
                  status: view.status,
                  version: view.version,
                  revision: view.revision,
                  photoUrl: view.ficha.photoUrl ?? null,
                },
              },
            };
          },
        );
      } catch (err) {
        replaced.length = 0; // rolled back: those photos are still stored
        if (written) await this.storage.remove(written).catch(() => undefined);
        throw err;
      }
    });
  }

  /** Withdraws one photo: it stops being served, its files are deleted, the ficha points to the previous one. */
  async withdraw(alertId: string, photoId: string, ctx: WriteContext) {
    return this.alerts.withPhotoCleanup(async (withdrawn) =>
      this.dataSource.transaction(async (m) => {
        const alert = await this.alerts.lock(m, alertId);
        checkIfMatch(ctx.ifMatch, alert.revision);
        const ids = await this.alerts.withdrawPhotos(m, alertId, photoId);
        if (!ids.length)
          throw new ApiError(HttpStatus.NOT_FOUND, 'PHOTO_NOT_FOUND', 'No existe esa foto en la alerta.');
        withdrawn.push(...ids);
        await this.audit.record(m, ctx.actor, { action: AUDIT.photoWithdrawn, alertId, targetId: photoId });
        if (alert.status !== 'draft' && alert.status !== 'active') return { withdrawn: photoId };
        const photo = await this.alerts.currentPhoto(m, alertId);
        const next = this.alerts.fichas.build({ ...alert.ficha }, alert.reportedAt.toISOString(), photo);
        return { withdrawn: photoId, alert: await this.alerts.applyChange(m, alert, next, ctx, {}) };
      }),
    );
  }

  /** Whether a photo may be served (stored, not withdrawn). */
  async isServable(photoId: string): Promise<boolean> {
    const rows = await this.dataSource.query(
      `SELECT 1 FROM intake.photos WHERE id = $1 AND status = 'stored'`,
      [photoId],
    );
    return rows.length === 1;
  }

  /** Deletes files left behind by withdrawals interrupted by a crash (run at start-up). */
  async sweepWithdrawn(): Promise<number> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM intake.photos WHERE status = 'withdrawn' AND withdrawn_at > now() - interval '30 days'`,
    );
    for (const r of rows) await this.storage.remove(r.id);
    return rows.length;
  }
}

export const PHOTO_VARIANT_NAMES = PHOTO_VARIANTS.map((v) => v.name);
