import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsDefined, IsInt, IsObject, IsOptional, IsUrl, Min, ValidateIf, ValidateNested } from 'class-validator';

type DtoClass = abstract new (...args: never[]) => object;

/** What a field's Swagger entry may add to what these decorators document. */
type FieldDoc = Pick<ApiPropertyOptions, 'description' | 'nullable'>;

// @nestjs/swagger tells a lazy type (`type: () => Dto`) from a class by the function's name being "type", the name
// an arrow function gets from the `type:` key it is written at. An arrow handed in as an argument is nameless, so
// `{ type }` would be documented as a schema named "" (a dangling `#/components/schemas/`). Each decorator below
// therefore writes its own arrow at the `type:` key.

/**
 * May be left out, but not sent as null: the field's other rules then refuse a null (class-validator's `IsOptional`
 * lets null through, for fields whose code reads null as "not given").
 */
export function OmittableNotNull() {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}

/**
 * An optional field whose `null` means "not given", as Discord reads a null in its own JSON (`"embeds": null`): the
 * field's rules and its cross-field rules then see it as absent. A value of the wrong type is still refused by them.
 */
export function NullAsAbsent() {
  return Transform(({ value }: { value: unknown }) => (value === null ? undefined : value));
}

/** A required nested object: a 400 naming the field when it is missing or not an object, then validated field by field. */
export function RequiredNested(type: () => DtoClass, doc: FieldDoc = {}) {
  return applyDecorators(
    ApiProperty({ type: () => type(), ...doc }),
    IsDefined({ message: '$property is required' }),
    IsObject({ message: '$property must be an object' }),
    ValidateNested(),
    Type(type),
  );
}

/** An optional nested object: documented, validated field by field, errors named `parent.child`. */
export function OptionalNested(type: () => DtoClass, doc: FieldDoc = {}) {
  return applyDecorators(
    ApiPropertyOptional({ type: () => type(), ...doc }),
    IsOptional(),
    IsObject({ message: '$property must be an object' }),
    ValidateNested(),
    Type(type),
  );
}

/** An optional list of nested objects of at most `maxItems`: documented, each item validated (`list[2].field`). */
export function OptionalNestedArray(type: () => DtoClass, maxItems: number, doc: FieldDoc = {}) {
  return applyDecorators(
    ApiPropertyOptional({ type: () => [type()], maxItems, ...doc }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(maxItems),
    IsObject({ each: true, message: 'each item of $property must be an object' }),
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

/** An optional size in pixels (a picture's width or height as Discord reports it): a whole number of at least 1. */
export function OptionalPixels() {
  return applyDecorators(ApiPropertyOptional({ minimum: 1 }), IsOptional(), IsInt(), Min(1));
}
