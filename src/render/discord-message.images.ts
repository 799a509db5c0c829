import type { NormalisedDiscordMessage } from './discord-message.normaliser';
import type { DiscordMessageView, ImageUrl, InlineImage } from './discord-message.view';

/** The normalised message with every picture URL replaced by its fetched data: URL (or null → placeholder), fetched in parallel. */
export async function fetchMessageImages(
  message: NormalisedDiscordMessage,
  fetch: (source: ImageUrl) => Promise<InlineImage>,
): Promise<DiscordMessageView> {
  const optional = async (source: ImageUrl | undefined): Promise<InlineImage | undefined> => (source === undefined ? undefined : fetch(source));
  const [avatar, replyAvatar, emojiEntries, attachments, embeds, reactions, stickers] = await Promise.all([
    fetch(message.author.avatar),
    message.reply?.author ? fetch(message.reply.author.avatar) : Promise.resolve(null),
    Promise.all(Object.entries(message.emojis).map(async ([id, source]) => [id, await fetch(source)] as const)),
    Promise.all(message.attachments.map(async (attachment) => ({ ...attachment, image: await fetch(attachment.image) }))),
    Promise.all(
      message.embeds.map(async (embed) => {
        const [authorIcon, footerIcon, thumbnail, image] = await Promise.all([
          optional(embed.author?.icon),
          optional(embed.footer?.icon),
          embed.thumbnail ? fetch(embed.thumbnail.image) : Promise.resolve(null),
          embed.image ? fetch(embed.image.image) : Promise.resolve(null),
        ]);
        return {
          ...embed,
          author: embed.author ? { ...embed.author, ...(authorIcon === undefined ? {} : { icon: authorIcon }) } : null,
          footer: embed.footer ? { ...embed.footer, ...(footerIcon === undefined ? {} : { icon: footerIcon }) } : null,
          thumbnail: embed.thumbnail ? { ...embed.thumbnail, image: thumbnail } : null,
          image: embed.image ? { ...embed.image, image } : null,
        };
      }),
    ),
    Promise.all(
      message.reactions.map(async (reaction) => ({ ...reaction, ...(reaction.image === undefined ? {} : { image: await fetch(reaction.image) }) })),
    ),
    Promise.all(message.stickers.map(async (sticker) => ({ ...sticker, image: await fetch(sticker.image) }))),
  ]);
  return {
    ...message,
    author: { ...message.author, avatar },
    reply: message.reply ? { ...message.reply, author: message.reply.author ? { ...message.reply.author, avatar: replyAvatar } : null } : null,
    emojis: Object.fromEntries(emojiEntries),
    attachments,
    embeds,
    reactions,
    stickers,
  };
}
