import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, ValidateNested } from 'class-validator';

type DtoClass = abstract new (...args: never[]) => object;

/** An optional nested object: documented, validated field by field, errors named `parent.child`. */
export function OptionalNested(type: () => DtoClass) {
  return applyDecorators(ApiPropertyOptional({ type }), IsOptional(), ValidateNested(), Type(type));
}

/** An optional list of nested objects of at most `maxItems`: documented, each item validated (`list[2].field`). */
export function OptionalNestedArray(type: () => DtoClass, maxItems: number) {
  return applyDecorators(
    ApiPropertyOptional({ type: () => [type()], maxItems }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(maxItems),
    ValidateNested({ each: true }),
    Type(type),
  );
}
