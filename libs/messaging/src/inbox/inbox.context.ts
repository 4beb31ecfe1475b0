import { BaseRpcContext } from '@nestjs/microservices';
import { EntityManager } from 'typeorm';

export interface ConsumedMessageMeta {
  topic: string;
  logicalTopic: string;
  partition: number;
  offset: string;
  consumer: string;
}

/**
 * Work the handlers of one inbox transaction leave for its end: under a key, the items of every event
 * the transaction handles (a group of consecutive events of a partition, or one event), done once, in
 * the order added, after the last handler and before the commit. A failure there rolls the whole
 * transaction back like a handler's failure; the events are then handled again one transaction each.
 */
export class DeferredWork {
  private readonly pending = new Map<
    string,
    { items: unknown[]; run: (items: unknown[]) => Promise<void> }
  >();

  /** `run` is the one given with the key's first item (every item of a key must expect the same run). */
  add<T>(key: string, item: T, run: (items: T[]) => Promise<void>): void {
    const entry = this.pending.get(key);
    if (entry) entry.items.push(item);
    else this.pending.set(key, { items: [item], run: run as (items: unknown[]) => Promise<void> });
  }

  /** Runs each key's work (keys in the order first added), once. */
  async flush(): Promise<void> {
    for (const [key, entry] of this.pending) {
      this.pending.delete(key);
      await entry.run(entry.items);
    }
  }
}

/**
 * What a Kafka handler receives besides the event: the transaction that also records the event in
 * the inbox. Every write the handler makes must go through `manager`, so that "processed" and
 * "its effects" commit together. `defer` leaves work for the end of that transaction, shared with the
 * other events it handles (one projection statement for a group of events instead of one per event).
 */
export class InboxContext extends BaseRpcContext<[EntityManager, ConsumedMessageMeta, DeferredWork]> {
  get manager(): EntityManager {
    return this.args[0];
  }
  get meta(): ConsumedMessageMeta {
    return this.args[1];
  }
  defer<T>(key: string, item: T, run: (items: T[]) => Promise<void>): void {
    this.args[2].add(key, item, run);
  }
}
