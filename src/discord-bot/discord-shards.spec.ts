import { parseShardIds, shardOfGuild } from './discord-shards';

describe('parseShardIds', () => {
  it.each([
    [undefined, 'all'],
    ['all', 'all'],
    ['1', [1]],
    ['2, 0', [0, 2]],
    ['0-3', [0, 1, 2, 3]],
  ])('reads %p as %p', (value, ids) => {
    expect(parseShardIds(value, undefined, 'laptop')).toEqual({ ids });
  });

  it('takes "ordinal" from POD_ORDINAL, else from the StatefulSet host name', () => {
    expect(parseShardIds('ordinal', '3', 'herald-bot-1')).toEqual({ ids: [3] });
    expect(parseShardIds('ordinal', undefined, 'herald-bot-1')).toEqual({ ids: [1] });
    expect(parseShardIds('ordinal', undefined, 'laptop')).toEqual({ problem: expect.stringContaining('POD_ORDINAL') });
  });

  it.each(['a,b', '3-1', '0,0', '-1', '1.5'])('refuses %p', (value) => {
    expect(parseShardIds(value, undefined, 'laptop')).toEqual({ problem: expect.any(String) });
  });
});

describe('shardOfGuild', () => {
  it('routes as Discord does: (guild_id >> 22) % num_shards', () => {
    expect(shardOfGuild('1200000000000000001', 2)).toBe(1);
    expect(shardOfGuild('1300000000000000001', 2)).toBe(0);
    expect(shardOfGuild('1300000000000000001', 1)).toBe(0);
  });
});
