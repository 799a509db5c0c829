import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { validationFailure } from '../common/validation';
import { Outbox } from '../outbox/outbox';
import { pageRequest } from '../outbox/outbox-page';
import type { OutboxJobFilter, OutboxJobRecord } from '../outbox/outbox.store';
import { VK_QUEUE, type VkDeliveryJob } from './vk-deliveries';
import { VK_ROUTES, type VkRouting } from './vk-routes';
import type { VkDeliveriesPageDto, VkDeliveriesQueryDto, VkDeliveryStatus, VkDeliveryViewDto } from './vk.dto';

const BY_STATUS: Record<VkDeliveryStatus, OutboxJobFilter> = {
  pending: { states: ['queued'], attempted: false },
  // A parked job has always been tried: "failed" is every queued job that failed at least once, and the parked ones.
  failed: { states: ['queued', 'parked'], attempted: true },
  delivered: { states: ['done'] },
};

/** GET /vk/deliveries and its retry: the `vk` queue of the outbox, seen as deliveries. */
@Injectable()
export class VkDeliveriesView {
  constructor(
    private readonly outbox: Outbox,
    @Inject(VK_ROUTES) private readonly routing: VkRouting,
  ) {}

  async list(query: VkDeliveriesQueryDto): Promise<VkDeliveriesPageDto> {
    const payload: Record<string, string | number> = {};
    if (query.destination) payload.destination = query.destination;
    if (query.peer !== undefined) payload.peerId = query.peer;
    const filter: OutboxJobFilter = query.status ? { ...BY_STATUS[query.status], payload } : { states: ['queued', 'parked', 'done'], payload };
    const [page, pending, failed] = await Promise.all([
      this.outbox.list(VK_QUEUE, filter, pageRequest(query)),
      this.outbox.count(VK_QUEUE, BY_STATUS.pending),
      this.outbox.count(VK_QUEUE, BY_STATUS.failed),
    ]);
    // A name the routes do not have and no delivery carries is a mistake (a toaster channel name such as `command`
    // where the destination is `redis:command`), not an empty listing. A destination dropped from the routes still
    // lists the deliveries it left.
    if (query.destination && !this.routing.destinations.has(query.destination) && page.items.length === 0 && !query.cursor) {
      throw unknownDestination(query.destination, [...this.routing.destinations.keys()]);
    }
    return { items: page.items.map(toView), next: page.next, counts: { pending, failed } };
  }

  /** The same as POST /outbox/{id}/retry for a VK delivery: a parked one is sent again as a new job at the end of its lane. */
  async retry(id: string): Promise<VkDeliveryViewDto> {
    const job = await this.outbox.find(id);
    if (!job || job.queue !== VK_QUEUE) throw new NotFoundException(`No VK delivery with id ${id}`);
    if (job.state !== 'parked') {
      const why =
        job.state === 'queued' ? 'it is retried automatically at nextAttemptAt' : `it is ${job.state === 'done' ? 'delivered' : 'retried already'}`;
      throw new ConflictException(`VK delivery ${id} is not parked: ${why}`);
    }
    return toView(await this.outbox.retryParked(job));
  }
}

function unknownDestination(name: string, known: string[]): BadRequestException {
  const message = `no destination named "${name}" in the routes in force, and no delivery to one: use a name GET /vk/routes lists (${known.join(', ')})`;
  return new BadRequestException(validationFailure([{ field: 'destination', messages: [message] }]));
}

export function toView(job: OutboxJobRecord): VkDeliveryViewDto {
  const { deliveryId, destination, peerId, event } = job.payload as VkDeliveryJob;
  const parked = job.state === 'parked';
  const status: VkDeliveryStatus = job.state === 'done' ? 'delivered' : job.attempts > 0 ? 'failed' : 'pending';
  return {
    id: job._id.toHexString(),
    deliveryId,
    eventId: event.event_id,
    eventType: event.event_type,
    destination,
    peerId,
    status,
    parked,
    attempts: job.attempts,
    lastError: job.lastError,
    nextAttemptAt: job.state === 'queued' ? new Date(job.nextAttemptAt).toISOString() : null,
    createdAt: new Date(job.createdAt).toISOString(),
    deliveredAt: job.state === 'done' && job.finishedAt ? new Date(job.finishedAt).toISOString() : null,
    event,
  };
}
