import { cutToDiscordLength, DISCORD_LIMITS } from '../discord-api/discord-limits';
import type { VkEvent } from './vk-event';

/** The one-line Discord message that mirrors a VK event in a bridge channel. */
export function bridgeLine(event: VkEvent): string {
  const where = event.peer.name ?? (event.peer.cid !== null ? `chat ${event.peer.cid}` : `dialog ${event.peer.bpid}`);
  const prefix = `**VK · ${escape(where)}** · ${escape(event.user.name)}`;
  return cutToDiscordLength(`${prefix}${describe(event)}`, DISCORD_LIMITS.content, '…');
}

function describe(event: VkEvent): string {
  switch (event.event_type) {
    case 'command':
    case 'message':
      return `: ${oneLine(event.message?.text ?? '')}${attachmentNote(event)}`;
    case 'message_edit':
      return ` edited: ${oneLine(event.message?.text ?? '')}${attachmentNote(event)}`;
    case 'button':
      return ` pressed a button${event.button?.payload == null ? '' : `: \`${JSON.stringify(event.button.payload).replace(/`/g, "'")}\``}`;
    case 'reaction':
      return event.reaction?.rid == null
        ? ` removed a reaction from message #${event.reaction?.cmid}`
        : ` reacted (${event.reaction.rid}) to message #${event.reaction.cmid}`;
  }
}

function attachmentNote(event: VkEvent): string {
  // attachment_refs has one entry per attachment; `attachments` adds the geo/reply/forward markers.
  const count = event.message?.attachment_refs.length ?? 0;
  return count === 0 ? '' : ` [+${count} attachment${count === 1 ? '' : 's'}]`;
}

/** Line breaks become ⏎ so the bridge stays one line per event; markdown is shown as typed. */
function oneLine(text: string): string {
  return escape(text.replace(/\s*\r?\n\s*/g, ' ⏎ ').trim());
}

function escape(text: string): string {
  return text.replace(/([\\*_~`|[\]>#-])/g, '\\$1');
}
