import { BackendReceiver } from '../stand-ins/backend/backend-receiver';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { ensureBuilt, spawnHerald } from '../support/process';
import { requireEnv } from '../support/servers';
import { botEnv } from './discord-support';

jest.setTimeout(300_000);

/**
 * A rollout stops a bot process while it is drawing a message: the outbox's drain lets the job finish in this process,
 * and the browser is closed only after it (until 2026-11-30, Playwright's own SIGTERM handler closed it at once).
 */
describe('the bot on SIGTERM', () => {
  let discord: DiscordStandIn;
  let backend: BackendReceiver;

  beforeAll(async () => {
    ensureBuilt();
    discord = await startDiscordStandIn();
    backend = await BackendReceiver.start(requireEnv('TEST_SYSTEM_TOKEN'));
  });

  afterAll(async () => {
    await backend?.stop();
    await discord?.stop();
  });

  it('finishes the image of a message it was drawing, in the same browser, and calls the backend before it exits', async () => {
    const replica = await spawnHerald(botEnv(discord, backend, { LOG_LEVEL: 'info' }));
    try {
      await discord.waitForIdentify(1, { timeoutMs: 120_000 });
      const channelId = discord.channels.general.id;
      // A first message drawn and called back: Chromium runs.
      const warm = discord.messageCreate({ channelId, author: discord.users.carol, content: 'before the rollout' });
      await backend.waitFor({ messageId: warm.id, event: 'created' }, 120_000);

      // The next one waits on its author's avatar, which the CDN holds, when the signal comes.
      const slowAvatar = discord.holdCdn(new RegExp(`/avatars/${discord.users.alice.id}/`));
      const message = discord.messageCreate({ channelId, author: discord.users.alice, content: 'posted as the pod stops' });
      let exited;
      try {
        await discord.waitFor(() => slowAvatar.requested() > 0, { timeoutMs: 60_000, what: 'the image job fetching the held avatar' });
        exited = replica.kill('SIGTERM');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      } finally {
        slowAvatar.release();
      }
      const result = await exited;
      expect(result.code).toBe(0);
      expect(backend.callbacks({ messageId: message.id, event: 'created' })).toHaveLength(1);
      expect(result.stdout).toContain('"msg":"Rendered message image"');
      expect(result.stdout).not.toContain('Chromium disconnected');
      expect(result.stdout).not.toContain('Outbox job failed');
    } finally {
      await replica.kill('SIGKILL');
    }
  });
});
