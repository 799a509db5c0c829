import { Logger } from '@nestjs/common';
import { MessageFlags, type RepliableInteraction } from 'discord.js';
import { PoolSaturatedError } from '../../browser/browser-pool';
import { CommandRefusal, DEFER_AFTER_MS, InteractionReplies } from './interaction-replies';

/** What discord.js's interaction would have sent to Discord, in order. */
function fakeInteraction(failing: string[] = []) {
  const calls: { step: string; options: unknown }[] = [];
  const step = (name: string) =>
    jest.fn((options?: unknown) => {
      calls.push({ step: name, options });
      return failing.includes(name) ? Promise.reject(new Error('Unknown Webhook')) : Promise.resolve();
    });
  const interaction = {
    id: '1576400294277939205',
    isCommand: () => true,
    isAutocomplete: () => false,
    commandName: 'herald',
    reply: step('reply'),
    deferReply: step('defer'),
    editReply: step('edit'),
    followUp: step('follow-up'),
    deleteReply: step('delete'),
  };
  return { interaction: interaction as unknown as RepliableInteraction, calls };
}

describe('InteractionReplies', () => {
  const replies = new InteractionReplies();
  afterEach(() => jest.useRealTimers());

  it('answers at once, ephemeral, when the answer is ready in time', async () => {
    const { interaction, calls } = fakeInteraction();
    await replies.answer(interaction, () => Promise.resolve({ content: 'hello' }), { ephemeral: true });
    expect(calls).toEqual([{ step: 'reply', options: expect.objectContaining({ content: 'hello', flags: MessageFlags.Ephemeral }) }]);
  });

  it('tells the member the renderer is full, ephemerally, with when to try again (the HTTP endpoint answers 503 then)', async () => {
    const { interaction, calls } = fakeInteraction();
    await replies.answer(interaction, () => Promise.reject(new PoolSaturatedError(64)), { ephemeral: false });
    expect(calls).toHaveLength(1);
    expect(calls[0].step).toBe('reply');
    expect(calls[0].options).toMatchObject({ flags: MessageFlags.Ephemeral });
    expect((calls[0].options as { content: string }).content).toMatch(/renderer is full .* Try again in 2 s\./);
  });

  it('defers a slow answer and edits it in', async () => {
    jest.useFakeTimers();
    const { interaction, calls } = fakeInteraction();
    let finish: (value: { content: string }) => void = () => undefined;
    const answering = replies.answer(interaction, () => new Promise((resolve) => (finish = resolve)), { ephemeral: true });
    await jest.advanceTimersByTimeAsync(DEFER_AFTER_MS);
    expect(calls.map((call) => call.step)).toEqual(['defer']);
    finish({ content: 'done' });
    await answering;
    expect(calls.map((call) => call.step)).toEqual(['defer', 'edit']);
    expect(calls[0].options).toEqual({ flags: MessageFlags.Ephemeral });
  });

  it('says a refusal after a public deferral to the member alone and removes the public "thinking…"', async () => {
    jest.useFakeTimers();
    const { interaction, calls } = fakeInteraction();
    let refuse: (error: Error) => void = () => undefined;
    const answering = replies.answer(interaction, () => new Promise((_, reject) => (refuse = reject)), { ephemeral: false });
    await jest.advanceTimersByTimeAsync(DEFER_AFTER_MS);
    refuse(new CommandRefusal('You cannot post pictures in this channel.'));
    await answering;
    expect(calls.map((call) => call.step)).toEqual(['defer', 'follow-up', 'delete']);
    expect(calls[1].options).toMatchObject({ content: 'You cannot post pictures in this channel.', flags: MessageFlags.Ephemeral });
  });

  it('logs a failed edit of the deferred answer with the interaction id', async () => {
    jest.useFakeTimers();
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const { interaction } = fakeInteraction(['edit']);
    let finish: (value: { content: string }) => void = () => undefined;
    const answering = replies.answer(interaction, () => new Promise((resolve) => (finish = resolve)), { ephemeral: true });
    await jest.advanceTimersByTimeAsync(DEFER_AFTER_MS);
    finish({ content: 'late' });
    await answering;
    expect(errors).toHaveBeenCalledWith(
      expect.objectContaining({ interactionId: '1576400294277939205', step: 'edit-original', reason: 'Unknown Webhook' }),
      expect.stringContaining('1576400294277939205'),
    );
    errors.mockRestore();
  });
});
