import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { mkdir, rename, rm, writeFile } from 'fs/promises';
import { join, resolve } from 'path';
import { IntakeConfig } from '../intake.config';
import { PhotoVariantName, ProcessedVariant } from './photo.processor';

/** Disk adapter for photo variants: PHOTO_DIR/<photoId>/<variant>.jpg. */
@Injectable()
export class PhotoStorage {
  readonly root: string;

  constructor(@Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<IntakeConfig>) {
    this.root = resolve(runtime.config.PHOTO_DIR);
  }

  /** Path of one variant; ids are UUIDs and names come from a fixed list, so nothing escapes the root. */
  pathOf(photoId: string, variant: PhotoVariantName): string {
    return join(this.root, photoId, `${variant}.jpg`);
  }

  async write(photoId: string, variants: ProcessedVariant[]): Promise<void> {
    const dir = join(this.root, photoId);
    await mkdir(dir, { recursive: true });
    for (const v of variants) {
      const tmp = join(dir, `.${v.name}.tmp`);
      await writeFile(tmp, v.data, { mode: 0o640 });
      await rename(tmp, this.pathOf(photoId, v.name));
    }
  }

  /** Deletes every variant of a photo; missing files are fine (idempotent). */
  async remove(photoId: string): Promise<void> {
    await rm(join(this.root, photoId), { recursive: true, force: true });
  }

  publicUrl(photoId: string, variant: PhotoVariantName): string {
    return `${this.runtime.config.PUBLIC_BASE_URL}/public/photos/${photoId}/${variant}.jpg`;
  }
}
