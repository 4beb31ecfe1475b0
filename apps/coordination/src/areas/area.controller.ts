import { AuthenticatedUser, CurrentUser, Roles } from '@alerta-rosa/auth';
import { ApiError, ZodBodyPipe } from '@alerta-rosa/http';
import { Body, Controller, Get, HttpStatus, Param, Put, Query } from '@nestjs/common';
import { z } from 'zod';
import { PsoCatalog } from '../pso/pso.catalog';
import { AreaDirectory } from './area-directory';
import { DirectoryService } from './directory.service';

const email = z.string().trim().toLowerCase().max(254).email();
const emails = z.array(email).min(1).max(10);
const personName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((s) => !/[<>\u0000-\u001F\u007F]/.test(s), 'No se permiten marcas ni caracteres de control');
const contactSchema = z.object({ name: personName, emails }).strict();
const areaContactsSchema = z
  .object({
    emails,
    supervisor: contactSchema.optional(),
    members: z
      .array(z.object({ name: personName, email }).strict())
      .max(200)
      .optional(),
  })
  .strict();

/**
 * The area directory and the PSO versions in force. Structure (areas, regions, units) and the PSO are
 * data under config/; the administrator changes contacts here — mailboxes, supervisors, members, the
 * duty officer of the shift, the Dirección — and every change is kept with who made it.
 */
@Controller('api/v1')
export class AreaController {
  constructor(
    private readonly directory: AreaDirectory,
    private readonly directoryService: DirectoryService,
    private readonly catalog: PsoCatalog,
  ) {}

  @Get('areas')
  @Roles('admin', 'operadora')
  areas() {
    const d = this.directory.data;
    return {
      version: d.version,
      dutyOfficer: this.directory.dutyOfficer,
      direccion: this.directory.direccion,
      areas: this.directory.all(),
      regions: d.regions.map((r) => ({ id: r.id, name: r.name, municipalities: r.municipalities })),
    };
  }

  @Put('areas/:id/contacts')
  @Roles('admin')
  changeArea(
    @Param('id') id: string,
    @Body(new ZodBodyPipe(areaContactsSchema)) body: z.infer<typeof areaContactsSchema>,
    @CurrentUser() user: AuthenticatedUser,
  ) {
    return this.directoryService.changeArea(id, body, user);
  }

  @Put('directory/:entry')
  @Roles('admin')
  changeContact(
    @Param('entry') entry: string,
    @Body(new ZodBodyPipe(contactSchema)) body: z.infer<typeof contactSchema>,
    @CurrentUser() user: AuthenticatedUser,
  ) {
    if (entry !== 'duty-officer' && entry !== 'direccion') {
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'DIRECTORY_ENTRY_NOT_FOUND',
        'Solo se pueden cambiar «duty-officer» (oficial de guardia) y «direccion».',
      );
    }
    return this.directoryService.changeContact(entry, body, user);
  }

  @Get('directory/changes')
  @Roles('admin', 'comite')
  async changes(@Query('limit') limit?: string) {
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'INVALID_LIMIT',
        'El límite debe ser un entero de 1 a 1000.',
      );
    }
    return { changes: await this.directoryService.changes(n) };
  }

  @Get('pso/versions')
  @Roles('admin', 'operadora', 'comite')
  psoVersions() {
    const current = this.catalog.inForceAt(new Date()).version;
    return { inForce: current, versions: this.catalog.versions };
  }
}
