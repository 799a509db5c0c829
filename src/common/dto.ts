import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, IsUrl, ValidateNested } from 'class-validator';

type DtoClass = abstract new (...args: never[]) => object;

/** What a field's Swagger entry may add to what these decorators document. */
type FieldDoc = Pick<ApiPropertyOptions, 'description'>;

/** An optional nested object: documented, validated field by field, errors named `parent.child`. */
export function OptionalNested(type: () => DtoClass, doc: FieldDoc = {}) {
  return applyDecorators(ApiPropertyOptional({ type, ...doc }), IsOptional(), ValidateNested(), Type(type));
}

/** An optional list of nested objects of at most `maxItems`: documented, each item validated (`list[2].field`). */
export function OptionalNestedArray(type: () => DtoClass, maxItems: number, doc: FieldDoc = {}) {
  return applyDecorators(
    ApiPropertyOptional({ type: () => [type()], maxItems, ...doc }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(maxItems),
    ValidateNested({ each: true }),
    Type(type),
  );
}

/** A web address Herald accepts: http(s) with its scheme; hosts without a TLD are fine (intranet hosts, stand-ins). */
export const WEB_URL = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

/** An optional web address (`WEB_URL`), documented as `format: uri`; `doc` adds an example or a description. */
export function OptionalWebUrl(doc: Omit<ApiPropertyOptions, 'format'> = {}) {
  return applyDecorators(ApiPropertyOptional({ format: 'uri', ...doc } as ApiPropertyOptions), IsOptional(), IsUrl(WEB_URL));
}
