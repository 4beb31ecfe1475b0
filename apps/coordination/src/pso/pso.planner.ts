import { EscalationTarget } from '@alerta-rosa/contracts';
import { Area, AreaDirectory } from '../areas/area-directory';
import { PsoStep, PsoVersion } from './pso.schema';

/** What the PSO needs to know about an alert to decide its tasks. */
export interface AlertFacts {
  activatedAt: Date;
  age: number;
  municipalityCode: string;
}

export interface PlannedEscalation {
  level: number;
  target: EscalationTarget;
  dueAt: Date;
}

export interface PlannedTask {
  step: PsoStep;
  area: Area;
  ackDueAt: Date;
  completeDueAt: Date;
  escalations: PlannedEscalation[];
}

export interface Plan {
  psoVersion: string;
  regionId: string;
  minor: boolean;
  mujerSeguraUnit: boolean;
  tasks: PlannedTask[];
}

/**
 * Turns a PSO version into the tasks of one alert: the applicable steps, the area responsible for
 * each, and absolute deadlines (relative ones scaled by `timeScale`, 1 in production).
 */
export function planTasks(pso: PsoVersion, directory: AreaDirectory, alert: AlertFacts, timeScale = 1): Plan {
  const regionId = directory.regionOfMunicipality(alert.municipalityCode);
  const minor = alert.age < 18;
  const unit = directory.mujerSeguraUnit(alert.municipalityCode);
  const at = (minutes: number) => new Date(alert.activatedAt.getTime() + minutes * 60_000 * timeScale);
  const tasks: PlannedTask[] = [];
  for (const step of [...pso.steps].sort((a, b) => a.order - b.order)) {
    const when = step.when ?? {};
    if (when.mujerSeguraUnit !== undefined && when.mujerSeguraUnit !== Boolean(unit)) continue;
    if (when.minor !== undefined && when.minor !== minor) continue;
    if (when.regions && !when.regions.includes(regionId)) continue;
    const area =
      step.area.kind === 'area'
        ? directory.area(step.area.id)
        : step.area.kind === 'regional_delegation'
          ? directory.delegation(step.area.of, regionId)
          : unit;
    if (!area) continue; // validated at start-up; a unit can only be missing when the condition excluded it
    tasks.push({
      step,
      area,
      ackDueAt: at(step.ackWithinMinutes),
      completeDueAt: at(step.completeWithinMinutes),
      escalations: pso.escalation.map((e, i) => ({
        level: i + 1,
        target: e.target,
        dueAt: at(step.ackWithinMinutes + e.afterAckDeadlineMinutes),
      })),
    });
  }
  return { psoVersion: pso.version, regionId, minor, mujerSeguraUnit: Boolean(unit), tasks };
}
