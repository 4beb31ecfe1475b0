import { ApiError } from '@alerta-rosa/http';
import { Controller, Get, HttpStatus, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { MunicipalityCatalog } from './municipality.catalog';

/** Oaxaca's 570 municipalities, searched by name without accents or case (the console's ficha form). */
@ApiTags('municipios')
@ApiBearerAuth()
@Controller('api/v1/municipalities')
export class MunicipalityController {
  constructor(private readonly catalog: MunicipalityCatalog) {}

  @Get()
  @ApiOperation({
    summary: 'Busca municipios de Oaxaca por nombre (sin acentos ni mayúsculas) o clave INEGI',
  })
  @ApiQuery({ name: 'q', required: true })
  @ApiQuery({ name: 'limit', required: false })
  search(@Query('q') q?: string, @Query('limit') limit?: string) {
    const n = limit === undefined ? 20 : Number(limit);
    if (typeof q !== 'string' || q.trim().length === 0 || q.length > 100) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'VALIDATION_FAILED',
        'Indique qué buscar (1 a 100 caracteres).',
        [{ path: 'q', code: 'invalid', message: 'De 1 a 100 caracteres' }],
      );
    }
    if (!Number.isInteger(n) || n < 1 || n > 100) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'VALIDATION_FAILED',
        'El límite debe ser un entero de 1 a 100.',
        [{ path: 'limit', code: 'invalid', message: 'Entero de 1 a 100' }],
      );
    }
    return { items: this.catalog.search(q, n).map((m) => ({ code: m.code, name: m.name })) };
  }
}
