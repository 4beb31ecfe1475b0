import { AuthenticatedUser, CurrentUser, Roles } from '@alerta-rosa/auth';
import { TASK_STATES, TaskState } from '@alerta-rosa/contracts';
import { ApiError, ZodBodyPipe } from '@alerta-rosa/http';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import { z } from 'zod';
import { TaskService } from './task.service';
import { TaskRow } from './task.types';

const uuidPipe = new ParseUUIDPipe({
  exceptionFactory: () => new ApiError(HttpStatus.BAD_REQUEST, 'INVALID_ID', 'Identificador inválido.'),
});

const noteSchema = z
  .object({
    text: z
      .string()
      .trim()
      .min(1)
      .max(4000)
      .refine(
        (s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(s),
        'Contiene caracteres de control',
      ),
  })
  .strict();

/**
 * The area API. An `area` user sees and acts on its own area's tasks only (another area's task
 * answers 404 TASK_NOT_FOUND, as if it did not exist); operadora, comité and admin read all tasks.
 */
@Controller('api/v1/tasks')
export class TaskController {
  constructor(private readonly tasks: TaskService) {}

  @Get()
  @Roles('area', 'operadora', 'comite', 'admin')
  async list(
    @CurrentUser() user: AuthenticatedUser,
    @Query('alertId') alertId?: string,
    @Query('state') state?: string,
  ) {
    if (alertId !== undefined && !z.string().uuid().safeParse(alertId).success) {
      throw new ApiError(HttpStatus.BAD_REQUEST, 'INVALID_ID', 'Identificador de alerta inválido.');
    }
    if (state !== undefined && !(TASK_STATES as readonly string[]).includes(state)) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'INVALID_STATE',
        `Estado inválido; use uno de: ${TASK_STATES.join(', ')}.`,
      );
    }
    const items = await this.tasks.list(user, { alertId, state: state as TaskState | undefined });
    return { items: items.map(present) };
  }

  @Get(':id')
  @Roles('area', 'operadora', 'comite', 'admin')
  async get(@CurrentUser() user: AuthenticatedUser, @Param('id', uuidPipe) id: string) {
    const { task, folio, notes, escalations } = await this.tasks.get(user, id);
    return {
      ...present(task),
      folio,
      notes: notes.map((n: any) => ({
        id: n.id,
        authorId: n.author_id,
        text: n.body,
        createdAt: iso(n.created_at),
      })),
      escalations: escalations.map((e: any) => ({
        level: e.level,
        target: e.target,
        dueAt: iso(e.due_at),
        escalatedAt: iso(e.escalated_at),
      })),
    };
  }

  @Post(':id/acknowledge')
  @HttpCode(200)
  @Roles('area')
  async acknowledge(@CurrentUser() user: AuthenticatedUser, @Param('id', uuidPipe) id: string) {
    return present(await this.tasks.acknowledge(id, { via: 'api', user }));
  }

  @Post(':id/notes')
  @HttpCode(201)
  @Roles('area')
  async addNote(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', uuidPipe) id: string,
    @Body(new ZodBodyPipe(noteSchema)) body: z.infer<typeof noteSchema>,
  ) {
    const { task, noteId } = await this.tasks.addNote(user, id, body.text);
    return { noteId, task: present(task) };
  }

  @Post(':id/complete')
  @HttpCode(200)
  @Roles('area')
  async complete(@CurrentUser() user: AuthenticatedUser, @Param('id', uuidPipe) id: string) {
    return present(await this.tasks.complete(user, id));
  }
}

function iso(d: Date | string | null): string | null {
  return d ? new Date(d).toISOString() : null;
}

export function present(t: TaskRow) {
  return {
    id: t.id,
    alertId: t.alert_id,
    stepId: t.step_id,
    stepOrder: t.step_order,
    psoVersion: t.pso_version,
    areaId: t.area_id,
    areaName: t.area_name,
    title: t.title,
    instructions: t.instructions,
    state: t.state,
    ackDueAt: iso(t.ack_due_at),
    completeDueAt: iso(t.complete_due_at),
    acknowledgedAt: iso(t.acknowledged_at),
    acknowledgedVia: t.acknowledged_via,
    startedAt: iso(t.started_at),
    completedAt: iso(t.completed_at),
    cancelledAt: iso(t.cancelled_at),
    mail: { status: t.mail_status, error: t.mail_error },
    createdAt: iso(t.created_at),
  };
}
