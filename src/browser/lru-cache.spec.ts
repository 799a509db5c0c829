import { LruCache } from './lru-cache';

describe('LruCache', () => {
  const byLength = (value: string) => value.length;

  it('evicts the least recently used entry when over the entry limit', () => {
    const cache = new LruCache<string>(2, 1000, byLength);
    cache.set('a', 'A');
    cache.set('b', 'B');
    expect(cache.get('a')).toBe('A'); // a is now the most recent
    cache.set('c', 'C');
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('A');
    expect(cache.get('c')).toBe('C');
  });

  it('evicts by total bytes and refuses a value larger than the whole budget', () => {
    const cache = new LruCache<string>(10, 10, byLength);
    cache.set('a', 'xxxxxx');
    cache.set('b', 'yyyyyy');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.bytes).toBe(6);
    cache.set('huge', 'z'.repeat(11));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('b')).toBe('yyyyyy');
  });

  it('replaces a key without counting its bytes twice', () => {
    const cache = new LruCache<string>(10, 100, byLength);
    cache.set('a', 'xx');
    cache.set('a', 'xxxx');
    expect(cache.bytes).toBe(4);
    expect(cache.size).toBe(1);
  });
});
