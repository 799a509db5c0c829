import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { errorMessage } from '../common/errors';
import type { RoutedEvent } from './vk-deliveries';
import { VkDirectory } from './vk-directory';
import { namesNeeded, normaliseUpdate } from './vk-normaliser';
import { VK_ROUTES, routeEvent, type VkRouting } from './vk-routes';
import type { VkUpdate } from './vk-wire';

/** An update Herald could not read, and why (what reading it threw). */
export interface UnreadableUpdate {
  update: VkUpdate;
  reason: string;
}

export interface ReadBatch {
  /** Each event with the update it was read from. */
  routed: (RoutedEvent & { update: VkUpdate })[];
  /** Updates of a type Herald does not route. */
  skipped: VkUpdate[];
  unreadable: UnreadableUpdate[];
}

/**
 * Turns long-poll updates into routed events: names looked up once for the batch, each update normalised and routed.
 * An update whose shape Herald cannot read (a community whose Long Poll API version is older than the one Herald
 * reads, or a change on VK's side) is set aside with the reason instead of failing its batch: a batch that throws is
 * polled again, so one such update used to hold every later update of the community back for good.
 */
@Injectable()
export class VkReader {
  constructor(
    private readonly directory: VkDirectory,
    @Inject(VK_ROUTES) private readonly routing: VkRouting,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async read(updates: readonly VkUpdate[]): Promise<ReadBatch> {
    const unreadable: UnreadableUpdate[] = [];
    const userIds = new Set<number>();
    const peerIds = new Set<number>();
    // One pass: each update's names are read on its own, so one that throws is set aside, not the batch.
    const readable = updates.filter((update) => {
      try {
        const needed = namesNeeded([update]);
        for (const id of needed.userIds) userIds.add(id);
        for (const id of needed.peerIds) peerIds.add(id);
        return true;
      } catch (error) {
        unreadable.push({ update, reason: errorMessage(error) });
        return false;
      }
    });
    // A failed lookup (VK unreachable) is the batch's to retry: it throws from here.
    const names = await this.directory.lookUp([...userIds], [...peerIds]);
    const prefixes = this.config.vk.commandPrefixes;
    const batch: ReadBatch = { routed: [], skipped: [], unreadable };
    for (const update of readable) {
      let event;
      try {
        event = normaliseUpdate(update, names, { commandPrefixes: prefixes });
      } catch (error) {
        unreadable.push({ update, reason: errorMessage(error) });
        continue;
      }
      if (event) batch.routed.push({ update, event, destinations: routeEvent(event, this.routing, prefixes) });
      else batch.skipped.push(update);
    }
    return batch;
  }
}
