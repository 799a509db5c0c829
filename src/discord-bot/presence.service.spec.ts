import { presenceFor } from './presence.service';

describe('presenceFor', () => {
  it('is online when every readiness check passes', () => {
    expect(presenceFor({ status: 'up', failed: [] })).toEqual({ status: 'online', text: 'All systems up' });
    expect(presenceFor({ status: 'up', failed: [] }, 'Rendering messages')).toEqual({ status: 'online', text: 'Rendering messages' });
  });

  it('is idle and names the optional checks that fail when degraded', () => {
    expect(presenceFor({ status: 'degraded', failed: ['backend', 'discord'] })).toEqual({ status: 'idle', text: 'Degraded: backend, discord' });
  });

  it('is do-not-disturb and names what is down when a required check fails', () => {
    expect(presenceFor({ status: 'down', failed: ['storage'] })).toEqual({ status: 'dnd', text: 'Down: storage' });
  });

  it('keeps the text within the 128 characters Discord shows', () => {
    const failed = Array.from({ length: 40 }, (_, index) => `check-${index}`);
    const { text } = presenceFor({ status: 'down', failed });
    expect(text).toHaveLength(128);
    expect(text.endsWith('…')).toBe(true);
  });
});
