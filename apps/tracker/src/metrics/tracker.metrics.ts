import { ServiceMetrics } from '@alerta-rosa/runtime';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { CapRepository } from '../cap/cap.repository';

/** The tracker's own figures for /metrics: CAP messages issued and the rolling expiry's margin. */
@Injectable()
export class TrackerMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: ServiceMetrics,
    private readonly cap: CapRepository,
  ) {}

  onModuleInit(): void {
    this.metrics.gauge(
      'cap_messages',
      'CAP 1.2 messages issued, by msgType and reason (activation, update, renewal, deactivation).',
      ['msg_type', 'reason'],
      async (set) => {
        for (const r of (await this.cap.counts()).byType)
          set({ msg_type: r.msg_type, reason: r.reason }, r.n);
      },
    );
    this.metrics.gauge('cap_active_alerts', 'Alerts active in the CAP feed.', [], async (set) => {
      set({}, (await this.cap.counts()).active);
    });
    this.metrics.gauge(
      'cap_soonest_expiry_seconds',
      'Seconds until the earliest `expires` among active alerts (negative: a renewal is overdue). Absent with no active alert.',
      [],
      async (set) => {
        const { soonestExpiry } = await this.cap.counts();
        if (soonestExpiry !== null) set({}, soonestExpiry);
      },
    );
  }
}
