import { chartRequestProblems } from './chart-rules';
import { labelledValuesProblem, pointsProblem, type ChartDto } from './metrics-image.dto';

const limits = { maxCharts: 2, maxSeries: 2, maxPoints: 3, maxWidth: 1000, maxHeight: 500, maxPixels: 1_000_000 };

function request(...charts: Partial<ChartDto>[]): { charts: ChartDto[] } {
  return {
    charts: charts.map((chart) => ({ title: 't', kind: 'line', series: [{ name: 's', points: [] }], ...chart })),
  };
}

const fields = (req: { charts: ChartDto[] }) => chartRequestProblems(req, limits).map((problem) => problem.field);

describe('chartRequestProblems', () => {
  it('accepts a request within every limit', () => {
    expect(chartRequestProblems(request({}, { kind: 'bar', series: [{ name: 'a', values: [{ label: 'x', value: 1 }] }] }), limits)).toEqual([]);
  });

  it("bounds the PNG's real pixels, width × scale by height × scale, naming scale and the limit", () => {
    // 800×400 is 320,000 CSS pixels; at scale 2 the PNG is 1600×800 = 1,280,000 pixels.
    const [problem] = chartRequestProblems(request({ width: 800, height: 400, scale: 2 }), limits);
    expect(problem.field).toBe('charts[0].scale');
    expect(problem.messages[0]).toContain('1600×800');
    expect(problem.messages[0]).toContain('METRICS_MAX_PIXELS (1,000,000)');
    expect(problem.messages[0]).toContain('use scale 1.75 or less');
    expect(fields(request({ width: 800, height: 400, scale: 1.75 }))).toEqual([]);
    // The default size counts too: 800×400 at scale 3 is 2400×1200.
    expect(fields(request({ scale: 3 }))).toEqual(['charts[0].scale']);
    // At scale 1 only the size can change.
    expect(fields(request({ width: 1000, height: 500 }))).toEqual([]);
    expect(chartRequestProblems(request({ width: 1000, height: 500 }), { ...limits, maxPixels: 400_000 })[0].field).toBe('charts[0].width');
  });

  it('names the field that is over a configured limit', () => {
    expect(fields(request({}, {}, {}))).toEqual(['charts']);
    expect(fields(request({ width: 1001, height: 501 }))).toEqual(['charts[0].width', 'charts[0].height']);
    expect(
      fields(
        request(
          {},
          {
            series: [
              { name: 'a', points: [] },
              { name: 'b', points: [] },
              { name: 'c', points: [] },
            ],
          },
        ),
      ),
    ).toEqual(['charts[1].series']);
    expect(
      fields(
        request({
          series: [
            {
              name: 'a',
              points: [
                [1, 1],
                [2, 2],
                [3, 3],
                [4, 4],
              ],
            },
          ],
        }),
      ),
    ).toEqual(['charts[0].series[0].points']);
  });

  it('says how a chart’s fields must fit together', () => {
    expect(
      fields(
        request({
          kind: 'stat',
          series: [
            { name: 'a', points: [] },
            { name: 'b', points: [] },
          ],
        }),
      ),
    ).toEqual(['charts[0].series']);
    expect(fields(request({ series: [{ name: 'a', values: [{ label: 'x', value: 1 }] }] }))).toEqual(['charts[0].series[0].values']);
    expect(fields(request({ series: [{ name: 'a' }] }))).toEqual(['charts[0].series[0]']);
    expect(
      fields(
        request({
          kind: 'bar',
          series: [
            { name: 'a', values: [] },
            { name: 'b', points: [] },
          ],
        }),
      ),
    ).toEqual(['charts[0].series']);
  });
});

describe('pointsProblem', () => {
  it('accepts numbers, numeric strings and gaps', () => {
    expect(
      pointsProblem([
        [1, 2],
        [2, '3.5'],
        [3, null],
        [4, 'NaN'],
      ]),
    ).toBeNull();
  });

  it('names the first malformed point', () => {
    expect(pointsProblem([[1, 2], [2]])).toBe('points[1] must be a [timestamp, value] pair');
    expect(pointsProblem([['now', 2]])).toBe('points[0][0] must be a Unix timestamp (seconds or milliseconds)');
    expect(pointsProblem([[1, 'high']])).toBe('points[0][1] must be a number, a numeric string or null');
    // Microseconds would be drawn thousands of years ahead; milliseconds up to the year 2286 are taken.
    expect(pointsProblem([[9_999_999_999_999, 1]])).toBeNull();
    expect(pointsProblem([[1764550000000000, 1]])).toBe(
      'points[0][0] is 1764550000000000, after the year 2286 as milliseconds: send Unix seconds or milliseconds, not micro- or nanoseconds',
    );
    expect(pointsProblem({})).toBe('points must be an array of [timestamp, value] pairs');
  });

  it("points a Prometheus result's values array at points, in one message", () => {
    expect(labelledValuesProblem([{ label: 'api', value: 12 }])).toBeNull();
    expect(
      labelledValuesProblem([
        [1764547200, '1'],
        [1764547260, '2'],
      ]),
    ).toBe(
      'values[0] is a [timestamp, value] pair; values takes { label, value } objects for a bar chart by category. ' +
        "Use points: Prometheus's values array goes in points",
    );
    expect(labelledValuesProblem([{ label: 'api', value: 1 }, 'x'])).toBe('values[1] must be a { label, value } object');
    expect(labelledValuesProblem([{ label: '', value: 1 }])).toBe('values[0].label must be a string of 1-100 characters');
    expect(labelledValuesProblem([{ label: 'a', value: '1' }])).toBe('values[0].value must be a finite number');
    expect(labelledValuesProblem([{ label: 'a', value: 1, colour: 'red' }])).toBe('values[0].colour: a labelled value takes label and value only');
  });
});
