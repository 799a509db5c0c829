import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

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

/** Flattens class-validator's tree into `embeds[0].title`-style field paths. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const segment = /^\d+$/.test(error.property) ? `[${error.property}]` : parent ? `.${error.property}` : error.property;
    const field = `${parent}${segment}`;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

/** The first `MAX_FIELD_ERRORS` field errors, a summary naming them, and how many more there were. */
export function validationFailure(fields: FieldError[]): ValidationFailure {
  const listed = fields.slice(0, MAX_FIELD_ERRORS);
  const moreErrors = fields.length - listed.length;
  const summary = listed.map((item) => `${item.field}: ${item.messages.join(', ')}`).join('; ');
  if (moreErrors === 0) return { statusCode: 400, error: 'Bad Request', message: `Validation failed: ${summary}`, errors: listed };
  return { statusCode: 400, error: 'Bad Request', message: `Validation failed: ${summary}; and ${moreErrors} more`, errors: listed, moreErrors };
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => new BadRequestException(validationFailure(flattenValidationErrors(errors))),
  });
}
