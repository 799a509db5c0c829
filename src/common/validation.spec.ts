import type { ValidationError } from '@nestjs/common';
import { flattenValidationErrors } from './validation';

describe('flattenValidationErrors', () => {
  it('names nested and array fields the way a client wrote them', () => {
    const errors: ValidationError[] = [
      {
        property: 'embeds',
        children: [{ property: '0', children: [{ property: 'title', constraints: { maxLength: 'title must be shorter than or equal to 256 characters' }, children: [] }] }],
      },
      { property: 'content', constraints: { isString: 'content must be a string' }, children: [] },
    ];
    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'embeds[0].title', messages: ['title must be shorter than or equal to 256 characters'] },
      { field: 'content', messages: ['content must be a string'] },
    ]);
  });
});
