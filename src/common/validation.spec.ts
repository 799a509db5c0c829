import type { BadRequestException, ValidationError } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsOptional, IsString, ValidateNested } from 'class-validator';
import {
  MAX_FIELD_ERRORS,
  createValidationPipe,
  flattenValidationErrors,
  validationFailure,
  type FieldError,
  type ValidationFailure,
} from './validation';

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

describe('a property the object does not take', () => {
  class PointDto {
    @IsString() name!: string;
    @IsOptional() @IsString() color?: string;
  }
  class BodyDto {
    @IsOptional() @IsString() channelId?: string;
    @IsOptional() @IsString() description?: string;
    @ValidateNested() @Type(() => PointDto) point!: PointDto;
  }

  const refusal = async (body: object, type: 'body' | 'query' = 'body') => {
    try {
      await createValidationPipe().transform(body, { type, metatype: BodyDto });
    } catch (error) {
      return ((error as BadRequestException).getResponse() as ValidationFailure).errors;
    }
    throw new Error('accepted');
  };

  it('names the property meant when the client wrote it in another case or spelling', async () => {
    expect(await refusal({ channel_id: '1', point: { name: 'a', colour: 'red' }, descripton: 'x' })).toEqual([
      { field: 'channel_id', messages: ['property channel_id should not exist (did you mean channelId?)'] },
      { field: 'descripton', messages: ['property descripton should not exist (did you mean description?)'] },
      { field: 'point.colour', messages: ['property colour should not exist (did you mean color?)'] },
    ]);
  });

  it('else lists what the object takes, by its path', async () => {
    expect(await refusal({ point: { name: 'a', size: 3 }, text: 'hi' })).toEqual([
      { field: 'text', messages: ['property text should not exist (the body takes channelId, description, point)'] },
      { field: 'point.size', messages: ['property size should not exist (point takes name, color)'] },
    ]);
  });

  it('names the query string when a parameter is not one it takes (a body setting sent as ?scale=2)', async () => {
    expect(await refusal({ scale: '2' }, 'query')).toEqual([
      { field: 'scale', messages: ['property scale should not exist (the query string takes channelId, description, point)'] },
    ]);
  });
});
