import { registerDecorator, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { discordLength } from './discord-limits';

/**
 * A string of at most `limit` characters counted the way Discord counts them (code points; see `discordLength`),
 * with the actual count in the message. class-validator's MaxLength counts differently (it also drops variation
 * selectors), so Discord text fields use this.
 */
export function MaxChars(limit: number, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'maxChars',
      target: target.constructor,
      propertyName: String(propertyName),
      constraints: [limit],
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && discordLength(value) <= limit,
        defaultMessage: (args?: ValidationArguments) =>
          typeof args?.value === 'string'
            ? `${args.property} must be at most ${limit} characters (got ${discordLength(args.value)})`
            : `${args?.property ?? 'value'} must be a string of at most ${limit} characters`,
      },
    });
}
