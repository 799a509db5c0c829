import type { ValidationError } from '@nestjs/common';
import { MAX_FIELD_ERRORS, flattenValidationErrors, validationFailure, type FieldError } from './validation';

describe('flattenValidationErrors', () => {
  it('names nested and array fields the way a client wrote them', () => {
    const errors: ValidationError[] = [
      {
        property: 'embeds',
        children: [
          {
            property: '0',
            children: [{ property: 'title', constraints: { maxLength: 'title must be shorter than or equal to 256 characters' }, children: [] }],
          },
        ],
      },
      { property: 'content', constraints: { isString: 'content must be a string' }, children: [] },
    ];
    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'embeds[0].title', messages: ['title must be shorter than or equal to 256 characters'] },
      { field: 'content', messages: ['content must be a string'] },
    ]);
  });
});

describe('validationFailure', () => {
  const fieldErrors = (count: number): FieldError[] =>
    Array.from({ length: count }, (_, index) => ({ field: `charts[${index}].title`, messages: ['title must be a string'] }));

  it('lists every field error when there are few', () => {
    const failure = validationFailure(fieldErrors(3));
    expect(failure.errors).toHaveLength(3);
    expect(failure.moreErrors).toBeUndefined();
    expect(failure.message).toBe(
      'Validation failed: charts[0].title: title must be a string; charts[1].title: title must be a string; charts[2].title: title must be a string',
    );
  });

  it('lists the first MAX_FIELD_ERRORS of 10,000 and counts the rest, in a small answer', () => {
    const failure = validationFailure(fieldErrors(10_000));
    expect(failure.errors).toEqual(fieldErrors(MAX_FIELD_ERRORS));
    expect(failure.moreErrors).toBe(10_000 - MAX_FIELD_ERRORS);
    expect(failure.message).toMatch(
      new RegExp(`charts\\[${MAX_FIELD_ERRORS - 1}\\]\\.title: title must be a string; and ${10_000 - MAX_FIELD_ERRORS} more$`),
    );
    expect(JSON.stringify(failure).length).toBeLessThan(5_000);
  });
});
