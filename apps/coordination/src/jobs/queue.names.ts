/** BullMQ queues of coordination (keys under QUEUE_PREFIX). Job ids are deterministic: no ':' and never all digits. */
export const QUEUES = {
  mail: 'coordination-mail',
  escalation: 'coordination-escalation',
  progress: 'coordination-progress',
} as const;

export const mailJobId = (mailId: string) => `mail-${mailId}`;
export const escalationJobId = (taskId: string, level: number) => `esc-${taskId}-l${level}`;
export const progressJobId = (alertId: string, seq: number) => `progress-${alertId}-n${seq}`;

export interface MailJob {
  mailId: string;
}
export interface EscalationJob {
  taskId: string;
  level: number;
  dueAt: string;
}
export interface ProgressJob {
  alertId: string;
  seq: number;
}
