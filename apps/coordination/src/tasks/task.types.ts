import { TaskState } from '@alerta-rosa/contracts';

export interface TaskRow {
  id: string;
  alert_id: string;
  step_id: string;
  step_order: number;
  pso_version: string;
  area_id: string;
  area_name: string;
  title: string;
  instructions: string;
  state: TaskState;
  ack_due_at: Date;
  complete_due_at: Date;
  escalation_plan: { level: number; target: string; dueAt: string }[];
  acknowledged_at: Date | null;
  acknowledged_via: string | null;
  acknowledged_by: string | null;
  started_at: Date | null;
  completed_at: Date | null;
  completed_by: string | null;
  cancelled_at: Date | null;
  cancel_reason: string | null;
  mail_status: 'pending' | 'sent' | 'failed';
  mail_error: string | null;
  timers: string;
  created_at: Date;
  updated_at: Date;
}

export interface AlertRow {
  alert_id: string;
  folio: string;
  version: number;
  status: 'active' | 'deactivated';
  ficha: Record<string, any>;
  reported_at: Date;
  activated_at: Date;
  deactivated_at: Date | null;
  outcome: string | null;
  pso_version: string;
  region_id: string;
  minor: boolean;
  mujer_segura: boolean;
  progress_seq: number;
  progress_enqueued: boolean;
}

export const OPEN_STATES: TaskState[] = ['assigned', 'acknowledged', 'in_progress'];
