import { randomUUID } from 'crypto';
import type { Logger } from 'pino';
import { LoadedPublication, PublicationRepository } from './publication.repository';

/**
 * A claim on one publication: a token and an expiry in PostgreSQL, renewed every third of its length
 * while the holder works. BullMQ is at-least-once (a job whose lock lapses is handed to another worker
 * while the first still runs); the lease is what keeps it to one send: a second claimant is refused
 * while the lease is live, and outcomes are recorded only under the token that holds it.
 *
 * Renewal is the process's, not each lease's: one round every third of the lease length renews every
 * lease held in one statement (a burst holds 120 at once; a statement each was a round trip per post).
 * A lease taken just after a round is renewed by the next, a third of its length later, as before.
 */
export class PublicationLease {
  readonly token = randomUUID();
  private released = false;

  private constructor(
    private readonly renewer: LeaseRenewer,
    private readonly repo: PublicationRepository,
    readonly publicationId: string,
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
    const renewer = LeaseRenewer.of(repo, leaseMs, logger);
    const lease = new PublicationLease(renewer, repo, publicationId);
    const pub = await repo.claim(publicationId, lease.token, leaseMs);
    if (!pub) return null;
    renewer.add(lease);
    return { lease, pub };
  }

  /**
   * The publication was settled under this lease (posted, «may exist», failed, cancelled: the outcome
   * cleared the claim): nothing is left to release.
   */
  settled(): void {
    this.renewer.remove(this);
    this.released = true;
  }

  /** Stops renewing and frees the publication for the next claimant (a no-op once it is settled). */
  async release(): Promise<void> {
    this.renewer.remove(this);
    if (this.released) return;
    this.released = true;
    await this.repo
      .release(this.publicationId, this.token)
      .catch((err: Error) =>
        this.renewer.logger.warn({ err: err.message }, 'lease release failed; it lapses on its own'),
      );
  }
}

/** The leases a process holds on one repository, renewed together. */
export class LeaseRenewer {
  private static readonly byRepo = new WeakMap<PublicationRepository, Map<number, LeaseRenewer>>();

  static of(repo: PublicationRepository, leaseMs: number, logger: Logger): LeaseRenewer {
    let byLength = this.byRepo.get(repo);
    if (!byLength) this.byRepo.set(repo, (byLength = new Map()));
    let renewer = byLength.get(leaseMs);
    if (!renewer) byLength.set(leaseMs, (renewer = new LeaseRenewer(repo, leaseMs, logger)));
    return renewer;
  }

  private readonly leases = new Set<PublicationLease>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  private constructor(
    private readonly repo: PublicationRepository,
    private readonly leaseMs: number,
    readonly logger: Logger,
  ) {}

  add(lease: PublicationLease): void {
    this.leases.add(lease);
    if (!this.timer) {
      this.timer = setInterval(() => void this.round(), Math.max(250, Math.floor(this.leaseMs / 3)));
      this.timer.unref();
    }
  }

  remove(lease: PublicationLease): void {
    this.leases.delete(lease);
    if (!this.leases.size && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private async round(): Promise<void> {
    // A round still waiting on the database: the next tick's would renew the same leases.
    if (this.running || !this.leases.size) return;
    this.running = true;
    const batch = [...this.leases];
    try {
      const held = await this.repo.renewLeases(
        batch.map((l) => ({ id: l.publicationId, token: l.token })),
        this.leaseMs,
      );
      for (const lease of batch) {
        // Gone (lapsed and taken, or settled): no longer renewed.
        if (!held.has(lease.token)) this.remove(lease);
      }
    } catch (err) {
      // PostgreSQL away for a moment: the expiries decide; the next round tries again.
      this.logger.warn({ err: (err as Error).message, leases: batch.length }, 'lease renewal failed');
    } finally {
      this.running = false;
    }
  }
}
