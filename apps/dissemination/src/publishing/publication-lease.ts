import { randomUUID } from 'crypto';
import type { Logger } from 'pino';
import { LoadedPublication, PublicationRepository } from './publication.repository';

/**
 * A claim on one publication: a token and an expiry in PostgreSQL, renewed every third of its length
 * while the holder works. BullMQ is at-least-once (a job whose lock lapses is handed to another worker
 * while the first still runs); the lease is what keeps it to one send: a second claimant is refused
 * while the lease is live, and outcomes are recorded only under the token that holds it.
 */
export class PublicationLease {
  readonly token = randomUUID();
  private timer: NodeJS.Timeout | null = null;
  private held = false;

  private constructor(
    private readonly repo: PublicationRepository,
    readonly publicationId: string,
    private readonly leaseMs: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Claims the publication and loads it (one round trip); null when another claimant holds a live lease
   * (or it is settled).
   */
  static async acquire(
    repo: PublicationRepository,
    publicationId: string,
    leaseMs: number,
    logger: Logger,
  ): Promise<{ lease: PublicationLease; pub: LoadedPublication } | null> {
    const lease = new PublicationLease(repo, publicationId, leaseMs, logger);
    const pub = await repo.claim(publicationId, lease.token, leaseMs);
    if (!pub) return null;
    lease.held = true;
    lease.timer = setInterval(() => void lease.renew(), Math.max(250, Math.floor(leaseMs / 3)));
    lease.timer.unref();
    return { lease, pub };
  }

  /**
   * The publication was settled under this lease (posted, «may exist», failed, cancelled: the outcome
   * cleared the claim): nothing is left to release.
   */
  settled(): void {
    this.stopTimer();
    this.held = false;
    this.released = true;
  }

  private released = false;

  private async renew(): Promise<void> {
    if (!this.held) return;
    try {
      this.held = await this.repo.renewLease(this.publicationId, this.token, this.leaseMs);
      if (!this.held) this.stopTimer();
    } catch (err) {
      // PostgreSQL away for a moment: the expiry decides; the next renewal tries again.
      this.logger.warn({ err: (err as Error).message }, 'lease renewal failed');
    }
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Stops renewing and frees the publication for the next claimant (a no-op once it is settled). */
  async release(): Promise<void> {
    this.stopTimer();
    this.held = false;
    if (this.released) return;
    this.released = true;
    await this.repo
      .release(this.publicationId, this.token)
      .catch((err: Error) =>
        this.logger.warn({ err: err.message }, 'lease release failed; it lapses on its own'),
      );
  }
}
