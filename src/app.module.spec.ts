import { startupWarnings } from './app.module';
import { loadConfig } from './config/config';

describe('startupWarnings', () => {
  const base = { SYSTEM_TOKEN: 'a-long-enough-system-token', DISCORD_TOKEN: 't', DRONE_WEBHOOK_SECRET: 's' };

  it('warns when Drone is on with no channel to post builds in', () => {
    expect(startupWarnings(loadConfig(base))).toEqual([
      expect.stringMatching(/^DRONE_WEBHOOK_SECRET is set but no channel is: every build is answered 202/),
    ]);
  });

  it('is quiet once a channel is named, for all builds or for some repositories', () => {
    expect(startupWarnings(loadConfig({ ...base, DRONE_CHANNEL_ID: '123456789012345678' }))).toEqual([]);
    expect(startupWarnings(loadConfig({ ...base, DRONE_REPO_CHANNELS: 'octo/hello=123456789012345678' }))).toEqual([]);
  });
});
