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

  it("with the legacy backend, says to keep BACKEND_TOKEN (the backend's own SYSTEM_TOKEN) and change Herald's instead", () => {
    const legacy = {
      SYSTEM_TOKEN: 'render-service-system-token',
      BACKEND_URL: 'https://backend.example.com/api',
      BACKEND_PROTOCOL: 'legacy',
      S3_BUCKET: 'files',
      S3_PUBLIC_URL: 'https://files.s3.amazonaws.com',
    };
    const [warning] = startupWarnings(loadConfig(legacy));
    expect(warning).toContain("keep BACKEND_TOKEN = the backend's own SYSTEM_TOKEN");
    expect(warning).not.toContain('give the backend a token of its own');
    // Following it: Herald's SYSTEM_TOKEN changed, BACKEND_TOKEN the backend's: no warning.
    expect(
      startupWarnings(loadConfig({ ...legacy, SYSTEM_TOKEN: 'heralds-own-system-token', BACKEND_TOKEN: 'render-service-system-token' })),
    ).toEqual([]);
  });
});
