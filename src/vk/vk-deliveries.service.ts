import { ConflictException, Injectable, NotFoundException, Optional } from '@nestjs/common';
import { VkDispatcher } from './vk-dispatcher';
import { VkOutbox } from './vk-outbox';
import type { VkDeliveriesPageDto, VkDeliveriesQueryDto, VkDeliveryViewDto } from './vk.dto';
import type { VkDelivery } from './vk.schemas';

/** What operators see of the outbox, and the manual retry. */
@Injectable()
export class VkDeliveriesService {
  constructor(
    private readonly outbox: VkOutbox,
    // Only the process that runs the poller has a dispatcher; elsewhere a retry waits for its next round.
    @Optional() private readonly dispatcher?: VkDispatcher,
  ) {}

  async list(query: VkDeliveriesQueryDto): Promise<VkDeliveriesPageDto> {
    const [items, pending, failed] = await Promise.all([
      this.outbox.list({ status: query.status, destination: query.destination, peerId: query.peer }, query.limit ?? 100),
      this.outbox.count('pending'),
      this.outbox.count('failed'),
    ]);
    return { items: items.map(toView), counts: { pending, failed } };
  }

  async retry(id: string): Promise<VkDeliveryViewDto> {
    const updated = await this.outbox.retryNow(id);
    if (!updated) {
      const existing = await this.outbox.findById(id);
      if (!existing) throw new NotFoundException(`No VK delivery with id ${id}`);
      throw new ConflictException(`VK delivery ${id} was already delivered`);
    }
    this.dispatcher?.kick();
    return toView(updated);
  }
}

export function toView(delivery: VkDelivery): VkDeliveryViewDto {
  const waiting = delivery.status !== 'delivered' && !delivery.parked;
  return {
    id: delivery._id,
    eventId: delivery.eventId,
    eventType: delivery.event.event_type,
    destination: delivery.destination,
    peerId: delivery.peerId,
    status: delivery.status,
    parked: delivery.parked,
    attempts: delivery.attempts,
    lastError: delivery.lastError,
    nextAttemptAt: waiting ? new Date(delivery.nextAttemptAt).toISOString() : null,
    createdAt: new Date(delivery.createdAt).toISOString(),
    deliveredAt: delivery.deliveredAt ? new Date(delivery.deliveredAt).toISOString() : null,
    event: delivery.event,
  };
}
