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
 * What a Kafka handler receives besides the event: the transaction that also records the event in
 * the inbox. Every write the handler makes must go through `manager`, so that "processed" and
 * "its effects" commit together.
 */
export class InboxContext extends BaseRpcContext<[EntityManager, ConsumedMessageMeta]> {
  get manager(): EntityManager {
    return this.args[0];
  }
  get meta(): ConsumedMessageMeta {
    return this.args[1];
  }
}
