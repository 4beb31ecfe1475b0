import { Roles } from '@alerta-rosa/auth';
import { Controller, Get } from '@nestjs/common';
import { AreaDirectory } from './area-directory';
import { PsoCatalog } from '../pso/pso.catalog';

/** Read-only view of the directory and PSO versions in force (edited as data under config/). */
@Controller('api/v1')
export class AreaController {
  constructor(
    private readonly directory: AreaDirectory,
    private readonly catalog: PsoCatalog,
  ) {}

  @Get('areas')
  @Roles('admin', 'operadora')
  areas() {
    const d = this.directory.data;
    return {
      version: d.version,
      dutyOfficer: d.dutyOfficer,
      direccion: d.direccion,
      areas: this.directory.all(),
      regions: d.regions.map((r) => ({ id: r.id, name: r.name, municipalities: r.municipalities })),
    };
  }

  @Get('pso/versions')
  @Roles('admin', 'operadora', 'comite')
  psoVersions() {
    const current = this.catalog.inForceAt(new Date()).version;
    return { inForce: current, versions: this.catalog.versions };
  }
}
