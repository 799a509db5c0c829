import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { BuildMessage } from '../../drone/build-message.schema';

/** Autocompletion shows at most this many choices (Discord's limit). */
export const MAX_CHOICES = 25;

/** Read-only lookups of Drone's build records (`drone_build_messages`) for /herald build. */
@Injectable()
export class BuildRecords {
  constructor(@InjectModel(BuildMessage.name) private readonly model: Model<BuildMessage>) {}

  /** Repositories with a stored build whose slug contains `typed` (any case), alphabetically. */
  async repositories(typed: string): Promise<string[]> {
    const filter = typed.trim() ? { repoSlug: { $regex: escapeRegex(typed.trim()), $options: 'i' } } : {};
    const slugs = await this.model.distinct('repoSlug', filter).exec();
    return slugs.sort((a, b) => a.localeCompare(b)).slice(0, MAX_CHOICES);
  }

  /** That build of the repository (slug in any case), or its newest when no number is given. */
  build(repository: string, number: number | null): Promise<BuildMessage | null> {
    const filter = {
      repoSlug: { $regex: `^${escapeRegex(repository.trim())}$`, $options: 'i' },
      ...(number !== null && { buildNumber: number }),
    };
    return this.model.findOne(filter).sort({ buildNumber: -1, updatedAt: -1 }).lean<BuildMessage>().exec();
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
