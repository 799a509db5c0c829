import { bridgeLine } from './vk-bridge-message';
import type { VkEvent } from './vk-event';

const base: VkEvent = {
  event_id: 'e',
  event_type: 'message',
  peer: { bpid: 2000000003, cid: 3, name: 'Moderators' },
  user: { uuid: 1, name: 'Ivan Petrov', firstname: 'Ivan', lastname: 'Petrov', nick: 'ip' },
  message: { cmid: 5, text: 'hello', reply: null, forward: [], forward_other: [], attachments: [], attachment_refs: [] },
};

describe('bridgeLine', () => {
  it('says where, who and what in one line, with markdown shown as typed', () => {
    const line = bridgeLine({
      ...base,
      message: {
        ...base.message!,
        text: 'look *here*\nand `there`',
        attachments: ['photo', 'doc', 'reply'],
        attachment_refs: ['photo1_2', 'doc1_3'],
      },
    });
    expect(line).toBe('**VK · Moderators** · Ivan Petrov: look \\*here\\* ⏎ and \\`there\\` [+2 attachments]');
  });

  it('describes edits, buttons and reactions', () => {
    expect(bridgeLine({ ...base, event_type: 'message_edit' })).toBe('**VK · Moderators** · Ivan Petrov edited: hello');
    expect(bridgeLine({ ...base, event_type: 'button', message: undefined, button: { cmid: 5, beid: 'x', payload: { a: 1 } } })).toBe(
      '**VK · Moderators** · Ivan Petrov pressed a button: `{"a":1}`',
    );
    expect(bridgeLine({ ...base, event_type: 'reaction', message: undefined, reaction: { cmid: 5, rid: 2 } })).toBe(
      '**VK · Moderators** · Ivan Petrov reacted (2) to message #5',
    );
    expect(bridgeLine({ ...base, event_type: 'reaction', message: undefined, reaction: { cmid: 5, rid: null } })).toBe(
      '**VK · Moderators** · Ivan Petrov removed a reaction from message #5',
    );
  });

  it("names an untitled chat by number and stays within Discord's 2000 characters", () => {
    const line = bridgeLine({ ...base, peer: { bpid: 2000000003, cid: 3, name: null }, message: { ...base.message!, text: 'x'.repeat(5000) } });
    expect(line.startsWith('**VK · chat 3** · Ivan Petrov: xxx')).toBe(true);
    expect(line).toHaveLength(2000);
  });
});

describe("bridgeLine at Discord's 2000-character limit", () => {
  it('counts code points as Discord does and never cuts an emoji in half', () => {
    const prefix = '**VK · Moderators** · Ivan Petrov: ';
    // 2000 characters to Discord (each emoji is one), though 3000 UTF-16 units: nothing is cut.
    const fits = 'a'.repeat(1000 - prefix.length) + '🚀'.repeat(1000);
    expect(bridgeLine({ ...base, message: { ...base.message!, text: fits } })).toBe(prefix + fits);

    const family = '👨‍👩‍👧';
    const line = bridgeLine({ ...base, message: { ...base.message!, text: 'a'.repeat(1997 - prefix.length) + family } });
    expect(line).toBe(prefix + 'a'.repeat(1997 - prefix.length) + '…');
    expect([...line].length).toBeLessThanOrEqual(2000);
  });
});
