import { type ArgumentMetadata, BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { distance } from 'fastest-levenshtein';

export interface FieldError {
  field: string;
  messages: string[];
}

/**
 * At most this many field errors are answered; the rest are counted in `moreErrors`. A body with 10,000 bad items
 * would otherwise be answered with a megabyte of near-identical messages.
 */
export const MAX_FIELD_ERRORS = 20;

/** The body of a validation 400. */
export interface ValidationFailure {
  statusCode: 400;
  error: 'Bad Request';
  message: string;
  errors: FieldError[];
  /** Field errors beyond `MAX_FIELD_ERRORS`, not listed; present only when there are some. */
  moreErrors?: number;
}

/**
 * Flattens class-validator's tree into `embeds[0].title`-style field paths. A property the object does not take (the
 * whitelist's "property x should not exist") also says which one was probably meant (`channel_id` → `channelId`) or
 * else which ones the object takes, so a client that guessed a name learns the right one from the answer.
 */
export function flattenValidationErrors(errors: ValidationError[], parent = '', container = 'the body'): FieldError[] {
  return errors.flatMap((error) => {
    const segment = /^\d+$/.test(error.property) ? `[${error.property}]` : parent ? `.${error.property}` : error.property;
    const field = `${parent}${segment}`;
    const own = error.constraints
      ? [
          {
            field,
            messages: Object.entries(error.constraints).map(([constraint, message]) =>
              constraint === 'whitelistValidation' ? `${message}${unknownPropertyHint(error, parent || container)}` : message,
            ),
          },
        ]
      : [];
    return [...own, ...flattenValidationErrors(error.children ?? [], field, container)];
  });
}

/** The properties a DTO class takes (its own and inherited), in the order it declares them. */
function propertiesOf(target: object): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(target.constructor, '', true, false);
  return [...new Set(metadata.map((entry) => entry.propertyName))];
}

const comparable = (name: string) => name.replace(/[_-]/g, '').toLowerCase();

/** The known name an unknown one was meant to be: another spelling (snake_case, case), else one within a typo (`colour` → `color`). */
export function meantName(asked: string, known: readonly string[]): string | undefined {
  const typed = comparable(asked);
  return (
    known.find((name) => comparable(name) === typed) ??
    known.find((name) => typed.length >= 4 && distance(comparable(name), typed) <= (typed.length >= 8 ? 2 : 1))
  );
}

function unknownPropertyHint(error: ValidationError, where: string): string {
  if (!error.target || typeof error.target !== 'object') return '';
  const known = propertiesOf(error.target);
  if (!known.length) return '';
  const meant = meantName(error.property, known);
  if (meant) return ` (did you mean ${meant}?)`;
  return ` (${where} takes ${known.join(', ')})`;
}

/** The first `MAX_FIELD_ERRORS` field errors, a summary naming them, and how many more there were. */
export function validationFailure(fields: FieldError[]): ValidationFailure {
  const listed = fields.slice(0, MAX_FIELD_ERRORS);
  const moreErrors = fields.length - listed.length;
  const summary = listed.map((item) => `${item.field}: ${item.messages.join(', ')}`).join('; ');
  if (moreErrors === 0) return { statusCode: 400, error: 'Bad Request', message: `Validation failed: ${summary}`, errors: listed };
  return { statusCode: 400, error: 'Bad Request', message: `Validation failed: ${summary}; and ${moreErrors} more`, errors: listed, moreErrors };
}

/** class-validator's errors on their way from the pipe's factory to `transform`, which knows where they were read. */
class InvalidInput extends Error {
  constructor(readonly errors: ValidationError[]) {
    super('invalid input');
  }
}

/** Where a request's argument was read, as a refusal names it: "the query string takes store" (not "the body"). */
const CONTAINERS: Partial<Record<ArgumentMetadata['type'], string>> = { query: 'the query string', param: 'the path' };

class HeraldValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    try {
      return (await super.transform(value, metadata)) as unknown;
    } catch (error) {
      if (!(error instanceof InvalidInput)) throw error;
      const container = CONTAINERS[metadata.type] ?? 'the body';
      throw new BadRequestException(validationFailure(flattenValidationErrors(error.errors, '', container)));
    }
  }
}

export function createValidationPipe(): ValidationPipe {
  return new HeraldValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    // Each error's object (never answered): an unknown property's hint names the properties of its class.
    validationError: { target: true },
    exceptionFactory: (errors) => new InvalidInput(errors),
  });
}
