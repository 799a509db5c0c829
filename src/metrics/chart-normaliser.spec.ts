import { chartKey, normaliseChart } from './chart-normaliser';
import type { ChartDto } from './metrics-image.dto';

const limits = { maxWidth: 2000, maxHeight: 2000 };

function chart(overrides: Partial<ChartDto> = {}): ChartDto {
  return {
    title: 'Latency',
    kind: 'line',
    series: [
      {
        name: 'api',
        points: [
          [1736942460, 2],
          [1736942400, 1],
        ],
      },
    ],
    ...overrides,
  };
}

describe('normaliseChart', () => {
  it('fills the defaults a client may leave out', () => {
    const input = normaliseChart(chart(), limits);
    expect(input).toMatchObject({ unit: '', thresholds: [], width: 800, height: 400, theme: 'dark' });
    expect(normaliseChart(chart({ kind: 'stat' }), limits)).toMatchObject({ width: 400, height: 200 });
  });

  it('keeps default sizes within the configured maximum', () => {
    expect(normaliseChart(chart(), { maxWidth: 500, maxHeight: 300 })).toMatchObject({ width: 500, height: 300 });
  });

  it('reads small timestamps as seconds, large ones as milliseconds, and sorts points by time', () => {
    const input = normaliseChart(
      chart({
        series: [
          {
            name: 'a',
            points: [
              [1736942460, 2],
              [1736942400000, 1],
              [1736942430.5, 3],
            ],
          },
        ],
      }),
      limits,
    );
    expect(input.series[0].points).toEqual([
      [1736942400000, 1],
      [1736942430500, 3],
      [1736942460000, 2],
    ]);
  });

  it('takes Prometheus string values and turns NaN, Inf and null into gaps', () => {
    const input = normaliseChart(
      chart({
        series: [
          {
            name: 'a',
            points: [
              [1, '0.25'],
              [2, 'NaN'],
              [3, '+Inf'],
              [4, null],
              [5, 7],
            ],
          },
        ],
      }),
      limits,
    );
    expect(input.series[0].points.map(([, value]) => value)).toEqual([0.25, null, null, null, 7]);
  });

  it('gives the same key to charts that mean the same, and a different key when anything drawn changes', () => {
    const a = normaliseChart(
      chart({
        title: ' Latency ',
        series: [
          {
            name: 'api',
            points: [
              [1736942400, 1],
              [1736942460, 2],
            ],
          },
        ],
      }),
      limits,
    );
    const b = normaliseChart(chart({ theme: 'dark', width: 800 }), limits);
    expect(chartKey('v1', a)).toBe(chartKey('v1', b));
    expect(chartKey('v1', a)).toMatch(/^metrics\/[0-9a-f]{64}\.png$/);
    expect(chartKey('v2', a)).not.toBe(chartKey('v1', a));
    expect(chartKey('v1', normaliseChart(chart({ theme: 'light' }), limits))).not.toBe(chartKey('v1', a));
    expect(chartKey('v1', normaliseChart(chart({ height: 401 }), limits))).not.toBe(chartKey('v1', a));
  });
});
