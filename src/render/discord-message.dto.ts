import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { OmitType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsNumber,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateNested,
  type ValidationOptions,
} from 'class-validator';
import { OptionalNested, OptionalNestedArray, OptionalWebUrl, RequiredNested, WEB_URL, OptionalPixels } from '../common/dto';
import { ReceivedEmbedDto } from '../discord-api/embed.dto';
import { MaxChars } from '../discord-api/max-chars';
import { RENDER_SCALE, RENDER_THEMES, TIMESTAMP_STYLES, type RenderTheme, type TimestampStyle } from './discord-message.input';
import type {
  DiscordConversationInput,
  AttachmentInput,
  CustomEmojiInput,
  DiscordMessageInput,
  MentionedChannelInput,
  MentionedRoleInput,
  MentionedUserInput,
  MentionsInput,
  MessageAuthorInput,
  ReactionInput,
  ReplyInput,
  StickerInput,
} from './discord-message.input';
import { isValidLocale, isValidTimeZone } from '../common/intl';
import { CONVERSATION_LIMITS, DISCORD_LIMITS, WIDTH, normaliseColor } from './discord-message.normaliser';

const SNOWFLAKE = /^\d{17,20}$/;
const SNOWFLAKE_MESSAGE = 'must be a Discord id (17–20 digits)';

/** `#rrggbb`, `#rgb`, or Discord's integer colour. */
function IsColor(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isColor',
      validator: {
        validate: (value: unknown) => value === null || value === 0 || normaliseColor(value as string | number) !== null,
        defaultMessage: (args) => `${args?.property} must be "#rrggbb" or an integer colour (0–16777215)`,
      },
    },
    options,
  );
}

function IsTimeZone(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isTimeZone',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isValidTimeZone(value),
        defaultMessage: (args) => `${args?.property} must be an IANA time zone such as "Europe/Berlin"`,
      },
    },
    options,
  );
}

function IsLocale(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isLocale',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isValidLocale(value),
        defaultMessage: (args) => `${args?.property} must be a BCP 47 locale such as "en-US"`,
      },
    },
    options,
  );
}

export class MessageAuthorDto implements MessageAuthorInput {
  @ApiProperty({ maxLength: DISCORD_LIMITS.name, example: 'Herald', description: 'Display name as shown in the channel' })
  @IsString()
  @IsNotEmpty()
  @MaxChars(DISCORD_LIMITS.name)
  name!: string;

  @OptionalWebUrl({
    example: 'https://cdn.discordapp.com/embed/avatars/0.png',
    description: 'Fetched by Herald only from RENDER_FETCH_ALLOWLIST hosts; missing or failing → default avatar',
  })
  avatarUrl?: string;

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'integer' }], example: '#5865f2', description: 'Role colour: "#rrggbb" or integer' })
  @IsOptional()
  @IsColor()
  color?: string | number;

  @ApiPropertyOptional({ description: 'Shows the APP tag (bots and apps)', example: true })
  @IsOptional()
  @IsBoolean()
  bot?: boolean;

  @ApiPropertyOptional({ description: 'A verified bot: the APP tag gets the check mark (only with bot)', example: false })
  @IsOptional()
  @IsBoolean()
  verified?: boolean;

  @ApiPropertyOptional({ example: '123456789012345678', description: "The user's id: picks Discord's default avatar when there is no picture" })
  @IsOptional()
  @Matches(SNOWFLAKE, { message: `id ${SNOWFLAKE_MESSAGE}` })
  id?: string;

  @ApiPropertyOptional({
    example: '0',
    description: 'Legacy 4-digit discriminator ("0" for new usernames): picks the default avatar as Discord does',
  })
  @IsOptional()
  @Matches(/^(0|\d{4})$/, { message: 'discriminator must be "0" or 4 digits' })
  discriminator?: string;
}

export class ReplyDto implements ReplyInput {
  @OptionalNested(() => MessageAuthorDto, { description: 'Absent when the replied-to message was deleted' })
  author?: MessageAuthorDto;

  @ApiPropertyOptional({
    maxLength: DISCORD_LIMITS.content,
    example: 'Is the nightly build green?',
    description:
      "The replied-to message's text (one line, as the client previews it); its mentions and custom emoji are named from the message's `mentions` and `emojis`",
  })
  @IsOptional()
  @IsString()
  @MaxChars(DISCORD_LIMITS.content)
  content?: string;

  @ApiPropertyOptional({ description: 'The replied-to message has attachments ("Click to see attachment")' })
  @IsOptional()
  @IsBoolean()
  hasAttachments?: boolean;

  @ApiPropertyOptional({ description: 'The reply pings the replied-to author: "@" before the name, as the client shows it' })
  @IsOptional()
  @IsBoolean()
  mentionsAuthor?: boolean;
}

export class MentionedUserDto implements MentionedUserInput {
  @ApiProperty({ example: '123456789012345678' })
  @Matches(SNOWFLAKE, { message: `id ${SNOWFLAKE_MESSAGE}` })
  id!: string;

  @ApiProperty({ example: 'grace' })
  @IsString()
  @IsNotEmpty()
  @MaxChars(DISCORD_LIMITS.name)
  name!: string;
}

export class MentionedRoleDto implements MentionedRoleInput {
  @ApiProperty({ example: '223456789012345678' })
  @Matches(SNOWFLAKE, { message: `id ${SNOWFLAKE_MESSAGE}` })
  id!: string;

  @ApiProperty({ example: 'Maintainers' })
  @IsString()
  @IsNotEmpty()
  @MaxChars(DISCORD_LIMITS.name)
  name!: string;

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'integer' }], example: '#2ecc71' })
  @IsOptional()
  @IsColor()
  color?: string | number;
}

export class MentionedChannelDto implements MentionedChannelInput {
  @ApiProperty({ example: '323456789012345678' })
  @Matches(SNOWFLAKE, { message: `id ${SNOWFLAKE_MESSAGE}` })
  id!: string;

  @ApiProperty({ example: 'releases' })
  @IsString()
  @IsNotEmpty()
  @MaxChars(DISCORD_LIMITS.name)
  name!: string;
}

export class MentionsDto implements MentionsInput {
  @OptionalNestedArray(() => MentionedUserDto, 100, { description: 'Names for `<@id>` in the text' })
  users?: MentionedUserDto[];

  @OptionalNestedArray(() => MentionedRoleDto, 100, { description: 'Names and colours for `<@&id>`' })
  roles?: MentionedRoleDto[];

  @OptionalNestedArray(() => MentionedChannelDto, 100, { description: 'Names for `<#id>`' })
  channels?: MentionedChannelDto[];
}

export class CustomEmojiDto implements CustomEmojiInput {
  @ApiProperty({ example: '423456789012345678' })
  @Matches(SNOWFLAKE, { message: `id ${SNOWFLAKE_MESSAGE}` })
  id!: string;

  @OptionalWebUrl({ description: "Defaults to Discord's CDN picture for the id" })
  url?: string;
}

export class AttachmentDto implements AttachmentInput {
  @ApiProperty({ format: 'uri', example: 'https://cdn.discordapp.com/attachments/1/2/build-log.txt' })
  @IsUrl(WEB_URL)
  url!: string;

  @ApiProperty({ example: 'build-log.txt' })
  @IsString()
  @IsNotEmpty()
  @MaxChars(256)
  filename!: string;

  @ApiPropertyOptional({ description: 'Bytes', example: 48213 })
  @IsOptional()
  @IsInt()
  @Min(0)
  size?: number;

  @ApiPropertyOptional({
    example: 'text/plain',
    description:
      'image/png, image/jpeg, image/gif (GIF badge), image/webp draw inline; video/* as its first frame (previewUrl) with a play button; anything else is a file card',
  })
  @IsOptional()
  @IsString()
  @MaxChars(255)
  contentType?: string;

  @OptionalPixels()
  width?: number;

  @OptionalPixels()
  height?: number;

  @ApiPropertyOptional({ description: 'Drawn blurred with a SPOILER label (also implied by a SPOILER_ file name)' })
  @IsOptional()
  @IsBoolean()
  spoiler?: boolean;

  @OptionalWebUrl({ description: "A video's first frame (Discord's media proxy: the attachment's proxy_url with ?format=jpeg)" })
  previewUrl?: string;
}

export class ReactionEmojiDto {
  @ApiProperty({ example: '👍', description: 'The unicode emoji, or the custom emoji name' })
  @IsString()
  @IsNotEmpty()
  @MaxChars(64)
  name!: string;

  @ApiPropertyOptional({ description: 'Custom emoji id' })
  @IsOptional()
  @Matches(SNOWFLAKE, { message: `id ${SNOWFLAKE_MESSAGE}` })
  id?: string;

  @OptionalWebUrl({ description: "Custom emoji picture; defaults to Discord's CDN for the id" })
  url?: string;
}

export class ReactionDto implements ReactionInput {
  @RequiredNested(() => ReactionEmojiDto)
  emoji!: ReactionEmojiDto;

  @ApiProperty({ minimum: 1, example: 3 })
  @IsInt()
  @Min(1)
  count!: number;

  @ApiPropertyOptional({ description: 'The bot reacted too (highlighted pill)' })
  @IsOptional()
  @IsBoolean()
  me?: boolean;
}

export class StickerDto implements StickerInput {
  @ApiProperty({ example: 'Wave' })
  @IsString()
  @IsNotEmpty()
  @MaxChars(64)
  name!: string;

  @OptionalWebUrl({ description: 'PNG/APNG/GIF picture; Lottie stickers have none (drawn as a named card)' })
  url?: string;
}

/** What a single message and a conversation both take: how the picture is drawn. */
export class RenderLookDto {
  @ApiPropertyOptional({ minimum: WIDTH.min, maximum: WIDTH.max, default: WIDTH.default, description: 'Image width in CSS pixels' })
  @IsOptional()
  @IsInt()
  @Min(WIDTH.min)
  @Max(WIDTH.max)
  width?: number;

  @ApiPropertyOptional({ example: 'en-US', default: 'en-US', description: 'Locale for dates' })
  @IsOptional()
  @IsLocale()
  locale?: string;

  @ApiPropertyOptional({ example: 'Europe/Berlin', default: 'UTC', description: 'Time zone for dates' })
  @IsOptional()
  @IsTimeZone()
  timeZone?: string;

  @ApiPropertyOptional({ enum: RENDER_THEMES, default: 'dark', description: "The client's dark or light theme" })
  @IsOptional()
  @IsIn(RENDER_THEMES, { message: `theme must be one of ${RENDER_THEMES.join(', ')}` })
  theme?: RenderTheme;

  @ApiPropertyOptional({
    minimum: RENDER_SCALE.min,
    maximum: RENDER_SCALE.max,
    default: RENDER_SCALE.default,
    example: 2,
    description: 'Device pixel ratio: the PNG is width × scale pixels wide, sharp on high-DPI screens (rounded to quarter steps)',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'scale must be a number from 1 to 3' })
  @Min(RENDER_SCALE.min, { message: 'scale must be a number from 1 to 3' })
  @Max(RENDER_SCALE.max, { message: 'scale must be a number from 1 to 3' })
  scale?: number;

  @ApiPropertyOptional({
    enum: TIMESTAMP_STYLES,
    default: 'calendar',
    description: 'calendar: "Today at 9:30 AM" / "Yesterday at …" relative to now, else the date (as the client); absolute: always date and time',
  })
  @IsOptional()
  @IsIn(TIMESTAMP_STYLES, { message: `timestampStyle must be one of ${TIMESTAMP_STYLES.join(', ')}` })
  timestampStyle?: TimestampStyle;

  @ApiPropertyOptional({ format: 'date-time', description: 'What "Today", "Yesterday" and <t:…:R> are relative to; defaults to the render time' })
  @IsOptional()
  @IsISO8601()
  now?: string;
}

export class RenderDiscordMessageDto extends RenderLookDto implements DiscordMessageInput {
  @RequiredNested(() => MessageAuthorDto)
  author!: MessageAuthorDto;

  @ApiPropertyOptional({
    maxLength: DISCORD_LIMITS.content,
    description: 'Discord markdown: mentions as <@id>, <@&id>, <#id>; custom emoji as <:name:id>',
  })
  @IsOptional()
  @IsString()
  @MaxChars(DISCORD_LIMITS.content)
  content?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'When the message was sent; defaults to now' })
  @IsOptional()
  @IsISO8601()
  timestamp?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Set when the message was edited: shows "(edited)"' })
  @IsOptional()
  @IsISO8601()
  editedTimestamp?: string;

  @OptionalNested(() => ReplyDto, { description: 'The message this one answers (reply line above it)' })
  reply?: ReplyDto;

  @OptionalNested(() => MentionsDto)
  mentions?: MentionsDto;

  @OptionalNestedArray(() => CustomEmojiDto, 200, { description: 'Where to fetch custom emoji used in the text (optional)' })
  emojis?: CustomEmojiDto[];

  @OptionalNestedArray(() => AttachmentDto, DISCORD_LIMITS.attachments)
  attachments?: AttachmentDto[];

  @OptionalNestedArray(() => ReceivedEmbedDto, DISCORD_LIMITS.embeds)
  embeds?: ReceivedEmbedDto[];

  @OptionalNestedArray(() => ReactionDto, DISCORD_LIMITS.reactions)
  reactions?: ReactionDto[];

  @OptionalNestedArray(() => StickerDto, DISCORD_LIMITS.stickers)
  stickers?: StickerDto[];
}

export class RenderQueryDto {
  @ApiPropertyOptional({
    description: 'Store the PNG in S3 and answer JSON { urn, url?, key, bytes, width, height } instead of the image',
    default: false,
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value))
  @IsBoolean({ message: 'store must be true or false' })
  store?: boolean;
}

export class StoredRenderDto {
  @ApiProperty({ example: 's3://herald/render/4f1c….png' })
  urn!: string;

  @ApiPropertyOptional({
    example: 'https://herald.s3.amazonaws.com/render/4f1c….png',
    description: 'The public URL; present when S3_PUBLIC_URL is set',
  })
  url?: string;

  @ApiProperty({ example: 'render/4f1c….png' })
  key!: string;

  @ApiProperty({ example: 48213 })
  bytes!: number;

  @ApiProperty({ example: 640 })
  width!: number;

  @ApiProperty({ example: 212 })
  height!: number;
}

/** The Swagger example: every part of a message, with pictures from Discord's CDN (drawn as placeholders offline). */
export const DISCORD_MESSAGE_EXAMPLE: RenderDiscordMessageDto = {
  author: { name: 'Herald', avatarUrl: 'https://cdn.discordapp.com/embed/avatars/0.png', color: '#5865f2', bot: true, verified: true },
  content:
    '## Nightly build\n<@&223456789012345678> build **#42** of `herald` is green ✅\n' +
    '- tests: **312** passed\n- coverage: __87 %__\n' +
    '```ts\nconst status: string = "green";\n```\n' +
    '-# triggered by <@123456789012345678> in <#323456789012345678> · ||secret||',
  timestamp: '2024-05-01T12:34:00.000Z',
  editedTimestamp: '2024-05-01T12:40:00.000Z',
  reply: { author: { name: 'grace', color: '#e67e22' }, content: 'Is the nightly build green?', mentionsAuthor: true },
  mentions: {
    users: [{ id: '123456789012345678', name: 'grace' }],
    roles: [{ id: '223456789012345678', name: 'Maintainers', color: '#2ecc71' }],
    channels: [{ id: '323456789012345678', name: 'releases' }],
  },
  embeds: [
    {
      color: 5793266,
      author: { name: 'Drone CI' },
      title: 'herald #42 passed',
      url: 'https://drone.example.com/herald/42',
      description: 'Commit `abc1234` by **grace**',
      fields: [
        { name: 'Branch', value: '`main`', inline: true },
        { name: 'Duration', value: '3m 12s', inline: true },
      ],
      footer: { text: 'drone.example.com' },
      timestamp: '2024-05-01T12:33:00.000Z',
    },
  ],
  reactions: [
    { emoji: { name: '🎉' }, count: 3, me: true },
    { emoji: { name: '👀' }, count: 1 },
  ],
};

/** One message of a conversation: what a single message takes, without the look (given once for the whole picture). */
export class ConversationMessageDto extends OmitType(RenderDiscordMessageDto, [
  'width',
  'locale',
  'timeZone',
  'theme',
  'scale',
  'timestampStyle',
  'now',
  'timestamp',
] as const) {
  @ApiProperty({ format: 'date-time', description: 'When the message was sent: groups messages and places date separators' })
  @IsISO8601()
  timestamp!: string;
}

export class RenderDiscordConversationDto extends RenderLookDto implements DiscordConversationInput {
  @ApiProperty({
    type: () => [ConversationMessageDto],
    minItems: 1,
    maxItems: CONVERSATION_LIMITS.messages,
    description: `Oldest first, 1–${CONVERSATION_LIMITS.messages} messages. The same author (by author.id, else name and avatar) within 7 minutes shares one header`,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(CONVERSATION_LIMITS.messages)
  @ValidateNested({ each: true })
  @Type(() => ConversationMessageDto)
  messages!: ConversationMessageDto[];

  @ApiPropertyOptional({ minimum: 0, example: 2, description: 'Draws the red "NEW" line above the message at this index' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(CONVERSATION_LIMITS.messages - 1)
  newMessagesFrom?: number;
}

const minutesPast = (minutes: number) => new Date(Date.UTC(2024, 4, 1, 12, 30 + minutes)).toISOString();

export const DISCORD_CONVERSATION_EXAMPLE: RenderDiscordConversationDto = {
  messages: [
    { author: { name: 'grace', id: '123456789012345678' }, content: 'Is the nightly build green?', timestamp: minutesPast(0) },
    { author: { name: 'grace', id: '123456789012345678' }, content: 'It was red yesterday.', timestamp: minutesPast(1) },
    {
      author: { name: 'Herald', id: '223456789012345678', bot: true, verified: true, color: '#5865f2' },
      content: 'Build **#42** passed ✅',
      timestamp: minutesPast(3),
      reply: { author: { name: 'grace', id: '123456789012345678' }, content: 'Is the nightly build green?', mentionsAuthor: true },
    },
  ],
  newMessagesFrom: 2,
};
