/** Shapes of the API answers the console reads (see docs/*.md of each service). */
export interface PublicFicha {
  fullName: string;
  age: number;
  municipalityCode: string;
  municipalityName: string;
  lastSeenAt: string;
  lastSeenPlace: string | null;
  description: string | null;
  photoUrl?: string | null;
  photoAltText?: string | null;
  gender?: string | null;
  heightCm?: number | null;
  build?: string | null;
  complexion?: string | null;
  hair?: string | null;
  eyes?: string | null;
  distinguishingMarks?: string | null;
  clothing?: string | null;
  locality?: string | null;
  circumstances?: string | null;
  contactPhones?: string[];
  isMinor?: boolean;
  amberFolio?: string | null;
  indigenousLanguage?: string | null;
  photoConsent?: boolean;
  activatingBody?: string;
}

export interface Alert {
  id: string;
  folio: string | null;
  status: 'draft' | 'active' | 'deactivated' | 'closed' | 'discarded';
  version: number;
  revision: number;
  activatingBody: string;
  ficha: PublicFicha;
  reportedAt: string;
  activatedAt: string | null;
  deactivatedAt: string | null;
  closedAt: string | null;
  outcome: string | null;
  createdAt: string;
  updatedAt: string;
  possibleDuplicates?: { id: string; folio: string | null }[];
}

export interface PrivateFicha {
  reporterName?: string | null;
  reporterPhone?: string | null;
  reporterEmail?: string | null;
  relationship?: string | null;
  investigationFolder?: string | null;
  healthConditions?: string | null;
  medication?: string | null;
  socialProfiles?: string[] | null;
  internalNotes?: string | null;
}

export interface Publication {
  id: string;
  accountId: string;
  platform: 'x' | 'facebook' | 'webhook';
  handle: string;
  accountStatus: string;
  kind: 'activation' | 'update' | 'located_notice';
  alertVersion: number;
  /** may_exist: a send ended ambiguously and the post was not found yet; treated as published. */
  status: 'pending' | 'posted' | 'may_exist' | 'failed' | 'cancelled';
  remoteId: string | null;
  remoteUrl: string | null;
  withImage: boolean;
  attempts: number;
  failureReason: string | null;
  lastError: string | null;
  postedAt: string | null;
  failedAt: string | null;
  /** absent: a post that may have existed was looked for at withdrawal and is not there. */
  withdrawalStatus: 'none' | 'withdrawn' | 'absent';
  withdrawnAt: string | null;
  mayExistSince?: string | null;
}

export interface Publications {
  alertId: string;
  folio: string;
  status: string;
  outcome: string | null;
  withdrawal: {
    requestedAt: string | null;
    completedAt: string | null;
    accounts: { accountId: string; status: string; attempts: number; lastError: string | null }[];
  } | null;
  publications: Publication[];
}

export interface Task {
  id: string;
  alertId: string;
  stepId: string;
  stepOrder: number;
  psoVersion: string;
  areaId: string;
  areaName: string;
  title: string;
  instructions: string;
  state: 'assigned' | 'acknowledged' | 'in_progress' | 'done' | 'cancelled';
  ackDueAt: string;
  completeDueAt: string;
  acknowledgedAt: string | null;
  acknowledgedVia: string | null;
  startedAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
  mail: { status: string | null; error: string | null };
  createdAt: string;
}

export interface TaskDetail extends Task {
  folio: string;
  notes: { id: string; authorId: string; text: string; createdAt: string }[];
  escalations: { level: number; target: string; dueAt: string; escalatedAt: string | null }[];
}

export interface TimelineEntry {
  seq: number;
  eventId: string;
  type: string;
  label: string;
  source: string;
  alertVersion: number | null;
  occurredAt: string;
  recordedAt: string;
  details: Record<string, any>;
}

export interface Timeline {
  alertId: string;
  folio: string | null;
  status: string | null;
  version: number | null;
  outcome: string | null;
  entries: TimelineEntry[];
}

/** GET /api/v1/alerts/:id/closure (tracker; see CONTRACTS). */
export interface Closure {
  alertId: string;
  folio: string;
  status: string;
  deactivatedAt: string | null;
  closedAt: string | null;
  overdue: boolean;
  withdrawalCompleted: boolean;
  missing: {
    photoPosts: {
      accountId: string;
      platform: string;
      handle: string;
      state: string;
      since: string;
      ageSeconds: number;
    }[];
    tasks: {
      taskId: string;
      areaId: string;
      areaName: string;
      state: string;
      since: string;
      ageSeconds: number;
    }[];
  };
}
