import { registerDecorator, ValidationArguments, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { DISCORD_LIMITS, discordLength, embedsCharacters } from '../discord-api/discord-limits';

/**
 * Cross-field rules of a notification body. class-validator has no class-level constraints, so each rule sits on
 * the property a client has to change to fix it, and reads its siblings from `args.object`.
 */

interface NotificationShape {
  message?: unknown;
  content?: unknown;
  embeds?: unknown;
  username?: unknown;
  avatarUrl?: unknown;
}

function hasEmbeds(body: NotificationShape): boolean {
  return Array.isArray(body.embeds) && body.embeds.length > 0;
}

/** True when the body would produce an empty Discord message. */
export function nothingToSend(body: NotificationShape): boolean {
  return body.message === undefined && (body.content === undefined || body.content === '') && !hasEmbeds(body);
}

@ValidatorConstraint({ name: 'messageShorthand' })
class MessageShorthandRule implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    return messageProblem(value, args.object) === undefined;
  }

  defaultMessage(args: ValidationArguments): string {
    return messageProblem(args.value, args.object) ?? 'message is invalid';
  }
}

function messageProblem(value: unknown, body: NotificationShape): string | undefined {
  if (value === undefined) return 'send one of message, content or embeds: a notification needs something to show';
  if (typeof value !== 'string') return 'message must be a string';
  if (value.trim() === '') return 'message must not be empty';
  const length = discordLength(value);
  if (length > DISCORD_LIMITS.content) return `message must be at most ${DISCORD_LIMITS.content} characters (got ${length})`;
  if (body.content !== undefined || body.embeds !== undefined) {
    return 'message is the shorthand for a simple notification and cannot be combined with content or embeds';
  }
  return undefined;
}

/**
 * The `message` shorthand. Also the one place that reports an empty notification, because a rule on an absent
 * property only runs when that property opts in; `message` is the field the simplest client is missing.
 */
export function IsMessageShorthand(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'messageShorthand',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: MessageShorthandRule,
    });
}

/** Runs the message rules when a message is given, or when nothing at all would be sent. */
export function shouldCheckMessage(body: NotificationShape): boolean {
  return body.message !== undefined || nothingToSend(body);
}

@ValidatorConstraint({ name: 'needsEmbed' })
class NeedsEmbedRule implements ValidatorConstraintInterface {
  validate(_value: unknown, args: ValidationArguments): boolean {
    return embedProblem(args) === undefined;
  }

  defaultMessage(args: ValidationArguments): string {
    return embedProblem(args) ?? `${args.property} needs an embed`;
  }
}

function embedProblem(args: ValidationArguments): string | undefined {
  const body = args.object as NotificationShape;
  const why =
    args.property === 'severity'
      ? 'severity colours an embed'
      : `${args.property} is shown as the embed's author (a bot cannot rename itself per message)`;
  if (body.message === undefined && !hasEmbeds(body)) return `${why}: send message or embeds, not only content`;
  if (args.property === 'avatarUrl' && body.username === undefined) return 'avatarUrl is the icon of the author line and needs username';
  if (args.property !== 'severity' && hasEmbeds(body)) {
    const first = (body.embeds as unknown[])[0];
    if (first && typeof first === 'object' && (first as { author?: unknown }).author !== undefined) {
      return `${args.property} cannot be used when embeds[0] has its own author`;
    }
  }
  return undefined;
}

/** For fields that only show inside an embed (severity's colour, username/avatarUrl as the author line). */
export function NeedsEmbed(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'needsEmbed',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: NeedsEmbedRule,
    });
}

@ValidatorConstraint({ name: 'embedsTotal' })
class EmbedsTotalRule implements ValidatorConstraintInterface {
  validate(embeds: unknown, args: ValidationArguments): boolean {
    return totalCharacters(embeds, args.object) <= DISCORD_LIMITS.embedsTotal;
  }

  defaultMessage(args: ValidationArguments): string {
    const total = totalCharacters(args.value, args.object);
    return (
      `embeds must have at most ${DISCORD_LIMITS.embedsTotal} characters in all titles, descriptions, field names and values, ` +
      `footers and author names together (got ${total})`
    );
  }
}

/** Counts what Discord will count, including `username` when it becomes the first embed's author. */
function totalCharacters(embeds: unknown, body: NotificationShape): number {
  const author = typeof body.username === 'string' ? discordLength(body.username) : 0;
  return embedsCharacters(embeds) + (hasEmbeds(body) ? author : 0);
}

/** Discord's 6000-character budget shared by all embeds of one message. */
export function EmbedsWithinTotalLimit(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'embedsTotal',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: EmbedsTotalRule,
    });
}
