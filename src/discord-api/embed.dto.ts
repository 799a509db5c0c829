// Discord's embed object, once for every feature. Fields keep Discord's wire names (icon_url, proxy_url), so an
// embed copied from Discord's docs, a webhook payload or a gateway message passes through unchanged. Text is
// counted the way Discord counts it (code points).
//
// Two shapes, because the rules genuinely differ:
// - `EmbedDto` and its parts: what a bot may send (POST /notify). Discord fills in provider, proxy URLs and media
//   sizes itself, so a sender may not set them.
// - `ReceivedEmbedDto` and its parts: an embed as Discord delivers it in a message (POST /render/discord-message):
//   the sendable fields plus provider, `proxy_url` / `proxy_icon_url` and media width and height.
import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsISO8601, IsNotEmpty, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';
import { OptionalNested, OptionalNestedArray, OptionalWebUrl, WEB_URL, OptionalPixels } from '../common/dto';
import { DISCORD_LIMITS } from './discord-limits';
import { MaxChars } from './max-chars';

export class EmbedFooterDto {
  @ApiProperty({ maxLength: DISCORD_LIMITS.footerText, example: 'nightly backup' })
  @IsString()
  @IsNotEmpty()
  @MaxChars(DISCORD_LIMITS.footerText)
  text!: string;

  @OptionalWebUrl({ example: 'https://example.com/icon.png' })
  icon_url?: string;
}

export class EmbedAuthorDto {
  @ApiProperty({ maxLength: DISCORD_LIMITS.authorName, example: 'backup-bot' })
  @IsString()
  @IsNotEmpty()
  @MaxChars(DISCORD_LIMITS.authorName)
  name!: string;

  @OptionalWebUrl()
  url?: string;

  @OptionalWebUrl()
  icon_url?: string;
}

export class EmbedMediaDto {
  @ApiProperty({ format: 'uri', example: 'https://example.com/chart.png' })
  @IsUrl(WEB_URL)
  url!: string;
}

export class EmbedFieldDto {
  @ApiProperty({ maxLength: DISCORD_LIMITS.fieldName, example: 'Duration' })
  @IsString()
  @IsNotEmpty()
  @MaxChars(DISCORD_LIMITS.fieldName)
  name!: string;

  @ApiProperty({ maxLength: DISCORD_LIMITS.fieldValue, example: '4 min 12 s' })
  @IsString()
  @IsNotEmpty()
  @MaxChars(DISCORD_LIMITS.fieldValue)
  value!: string;

  @ApiPropertyOptional({ description: 'Show this field next to its neighbours instead of on its own line.' })
  @IsOptional()
  @IsBoolean()
  inline?: boolean;
}

/** Discord's embed object as a bot sends it (no attachments). */
export class EmbedDto {
  @ApiPropertyOptional({ maxLength: DISCORD_LIMITS.embedTitle, example: 'Backup finished' })
  @IsOptional()
  @IsString()
  @MaxChars(DISCORD_LIMITS.embedTitle)
  title?: string;

  @ApiPropertyOptional({ maxLength: DISCORD_LIMITS.embedDescription, example: '42 GB in 4 minutes' })
  @IsOptional()
  @IsString()
  @MaxChars(DISCORD_LIMITS.embedDescription)
  description?: string;

  @OptionalWebUrl({ description: 'Makes the title a link.' })
  url?: string;

  @ApiPropertyOptional({ format: 'date-time', example: '2025-01-31T12:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true })
  timestamp?: string;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 0xffffff,
    description: 'RGB as an integer; on POST /notify it wins over `severity`.',
    example: 0x57f287,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(0xffffff)
  color?: number;

  @OptionalNested(() => EmbedFooterDto)
  footer?: EmbedFooterDto;

  @OptionalNested(() => EmbedMediaDto)
  image?: EmbedMediaDto;

  @OptionalNested(() => EmbedMediaDto)
  thumbnail?: EmbedMediaDto;

  @OptionalNested(() => EmbedAuthorDto)
  author?: EmbedAuthorDto;

  @OptionalNestedArray(() => EmbedFieldDto, DISCORD_LIMITS.embedFields)
  fields?: EmbedFieldDto[];
}

export class ReceivedEmbedFooterDto extends EmbedFooterDto {
  @OptionalWebUrl({ description: "Discord's media-proxy copy of icon_url; fetched in preference to it" })
  proxy_icon_url?: string;
}

export class ReceivedEmbedAuthorDto extends EmbedAuthorDto {
  @OptionalWebUrl({ description: "Discord's media-proxy copy of icon_url; fetched in preference to it" })
  proxy_icon_url?: string;
}

export class ReceivedEmbedMediaDto extends EmbedMediaDto {
  @OptionalWebUrl({ description: "Discord's media-proxy copy; fetched in preference to url" })
  proxy_url?: string;

  @OptionalPixels()
  width?: number;

  @OptionalPixels()
  height?: number;
}

export class EmbedProviderDto {
  @ApiPropertyOptional({ maxLength: DISCORD_LIMITS.authorName, example: 'GitHub' })
  @IsOptional()
  @IsString()
  @MaxChars(DISCORD_LIMITS.authorName)
  name?: string;

  @OptionalWebUrl()
  url?: string;
}

/** A video embed's video: its size is what the client draws (the picture is the thumbnail); even its url may be absent. */
export class EmbedVideoDto extends PartialType(ReceivedEmbedMediaDto) {}

export const EMBED_TYPES = ['rich', 'image', 'video', 'gifv', 'article', 'link', 'auto_moderation_message', 'poll_result'] as const;

/** Discord's embed object as a received message carries it: what was sent plus what Discord added. */
export class ReceivedEmbedDto extends EmbedDto {
  @ApiPropertyOptional({
    enum: EMBED_TYPES,
    default: 'rich',
    description:
      "Discord's embed type: image and gifv (Tenor, Giphy) draw as the bare picture from thumbnail/image; video as a card with the still and a play button",
  })
  @IsOptional()
  @IsIn(EMBED_TYPES)
  type?: (typeof EMBED_TYPES)[number];

  @OptionalNested(() => EmbedVideoDto, { description: 'Its size is the size drawn for video and gifv embeds (the picture is the thumbnail)' })
  video?: EmbedVideoDto;

  // The parts Discord adds to are redeclared with their received shape (`= undefined` is what every absent DTO
  // field holds anyway; TypeScript wants it spelled out to redeclare a decorated field).
  @OptionalNested(() => ReceivedEmbedFooterDto)
  override footer?: ReceivedEmbedFooterDto = undefined;

  @OptionalNested(() => ReceivedEmbedMediaDto)
  override image?: ReceivedEmbedMediaDto = undefined;

  @OptionalNested(() => ReceivedEmbedMediaDto)
  override thumbnail?: ReceivedEmbedMediaDto = undefined;

  @OptionalNested(() => ReceivedEmbedAuthorDto)
  override author?: ReceivedEmbedAuthorDto = undefined;

  @OptionalNested(() => EmbedProviderDto)
  provider?: EmbedProviderDto;
}
