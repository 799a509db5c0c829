import { safeEqual } from './safe-equal';

describe('safeEqual', () => {
  it('accepts the same secret and refuses any other', () => {
    expect(safeEqual('s3cret-token', 's3cret-token')).toBe(true);
    expect(safeEqual('s3cret-tokeN', 's3cret-token')).toBe(false);
    expect(safeEqual('s3cret', 's3cret-token')).toBe(false);
    expect(safeEqual('', 's3cret-token')).toBe(false);
  });
});
