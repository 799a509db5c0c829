/**
 * Unit-aware number formatting for axes, legends and stat panels. An axis picks one scale for all
 * its ticks (so they read "0 MiB, 100 MiB, 200 MiB"), a single value picks its own.
 */

export interface UnitScale {
  factor: number;
  suffix: string;
  /** Whether a space goes between the number and the suffix ("42%" vs "42 ms"). */
  spaced: boolean;
  /** How zero reads: "0 B" rather than "0 MiB", "0 jobs" rather than "0k jobs". */
  zero: string;
}

const BYTE_UNITS = new Set(['bytes', 'byte', 'b']);
const PERCENT_UNITS = new Set(['%', 'percent']);
const DURATION_MS = new Set(['ms', 'millisecond', 'milliseconds']);
const DURATION_S = new Set(['s', 'sec', 'second', 'seconds']);

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
const SI = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
const DURATIONS: Array<[number, string]> = [
  [1, 'ms'],
  [1000, 's'],
  [60_000, 'min'],
  [3_600_000, 'h'],
  [86_400_000, 'd'],
];

const SUPERSCRIPT: Record<string, string> = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };

/** Past the prefixes a unit has (or below a thousandth of its smallest), numbers read as "1.7×10³⁰⁰". */
const LARGEST_SCALED = 1e6;
const SMALLEST_SCALED = 1e-3;

export function chooseScale(unit: string, magnitude: number): UnitScale {
  const scale = namedScale(unit, magnitude);
  const scaled = Math.abs(magnitude) / scale.factor;
  if (magnitude === 0 || !Number.isFinite(magnitude) || (scaled < LARGEST_SCALED && scaled >= SMALLEST_SCALED)) return scale;
  return exponentScale(unit, Math.abs(magnitude));
}

/** Scientific notation ("1.7×10³⁰⁰", "2×10⁻⁵ ms") in the unit's base ("B", "ms", "%", "req/s"); an axis takes its largest value's power. */
function exponentScale(unit: string, magnitude: number): UnitScale {
  const base = namedScale(unit, 0);
  const exponent = Math.floor(Math.log10(magnitude / base.factor));
  const digits = String(exponent).split('');
  const power = `×10${digits.map((digit) => SUPERSCRIPT[digit]).join('')}`;
  const suffix = !base.suffix ? power : base.spaced ? `${power} ${base.suffix}` : `${power}${base.suffix}`;
  return { factor: base.factor * 10 ** exponent, suffix, spaced: false, zero: base.zero };
}

function namedScale(unit: string, magnitude: number): UnitScale {
  const key = unit.trim().toLowerCase();
  const abs = Math.abs(magnitude);
  if (PERCENT_UNITS.has(key)) return { factor: 1, suffix: '%', spaced: false, zero: '0%' };
  if (BYTE_UNITS.has(key)) {
    let i = 0;
    while (i < BINARY.length - 1 && abs >= 1024 ** (i + 1)) i++;
    return { factor: 1024 ** i, suffix: BINARY[i], spaced: true, zero: '0 B' };
  }
  if (DURATION_MS.has(key) || DURATION_S.has(key)) {
    const inMs = DURATION_S.has(key) ? abs * 1000 : abs;
    let i = 0;
    while (i < DURATIONS.length - 1 && inMs >= DURATIONS[i + 1][0]) i++;
    const base = DURATION_S.has(key) ? 1000 : 1;
    return { factor: DURATIONS[i][0] / base, suffix: DURATIONS[i][1], spaced: true, zero: `0 ${DURATIONS[i][1]}` };
  }
  let i = 0;
  while (i < SI.length - 1 && abs >= 1000 ** (i + 1)) i++;
  const prefix = SI[i];
  const rest = unit.trim();
  // "1.5k req/s": an SI prefix sticks to the number, the unit keeps its space.
  return {
    factor: 1000 ** i,
    suffix: prefix ? (rest ? `${prefix} ${rest}` : prefix) : rest,
    spaced: !prefix && rest !== '',
    zero: rest ? `0 ${rest}` : '0',
  };
}

/** Three significant digits, no trailing zeros, never "-0". */
export function formatNumber(value: number, decimals?: number): string {
  let text: string;
  if (decimals !== undefined) text = value.toFixed(decimals);
  else if (Math.abs(value) >= 100) text = Math.round(value).toString();
  else text = Number(value.toPrecision(3)).toString();
  if (/^-0(\.0*)?$/.test(text)) text = text.slice(1);
  return text;
}

export function formatScaled(value: number, scale: UnitScale, decimals?: number): string {
  if (value === 0) return scale.zero;
  const number = formatNumber(value / scale.factor, decimals);
  if (!scale.suffix) return number;
  return scale.spaced ? `${number} ${scale.suffix}` : `${number}${scale.suffix}`;
}

export function formatValue(value: number, unit: string): string {
  return formatScaled(value, chooseScale(unit, value));
}

export interface AxisTicks {
  min: number;
  max: number;
  interval: number;
  scale: UnitScale;
  /** Decimals every tick label needs, so labels on one axis line up ("0.5, 1.0, 1.5"). */
  decimals: number;
}

/**
 * Round axis bounds and a 1/2/2.5/5 step, computed in the unit's display scale so byte and
 * duration axes get round ticks in MiB or seconds rather than in raw bytes or milliseconds.
 */
export function axisTicks(
  dataMin: number,
  dataMax: number,
  unit: string,
  targetTicks: number,
  integers = false,
): AxisTicks {
  let lo = dataMin;
  let hi = dataMax;
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
    if (dataMin >= 0 && lo < 0) lo = 0;
  }
  const scale = chooseScale(unit, Math.max(Math.abs(lo), Math.abs(hi)));
  const sLo = lo / scale.factor;
  const sHi = hi / scale.factor;
  const rough = (sHi - sLo) / Math.max(1, targetTicks);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const residual = rough / magnitude;
  // Counts (every value a whole number, shown unscaled) get whole steps: "2.5 deploys" reads wrong.
  const wholeSteps = integers && scale.factor === 1;
  let step = (residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 2.5 && !wholeSteps ? 2.5 : residual <= 5 ? 5 : 10) * magnitude;
  if (wholeSteps) step = Math.max(1, step);
  const niceLo = Math.floor(sLo / step + 1e-9) * step;
  const niceHi = Math.ceil(sHi / step - 1e-9) * step;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (residualDigit(step) === 2.5 ? 1 : 0));
  return {
    min: niceLo * scale.factor,
    max: niceHi * scale.factor,
    interval: step * scale.factor,
    scale,
    decimals: Math.min(decimals, 6),
  };
}

function residualDigit(step: number): number {
  return Math.round((step / 10 ** Math.floor(Math.log10(step))) * 10) / 10;
}

/** Most decimals a stat panel adds to keep its figure on the right side of a threshold. */
const MAX_DECIMALS = 6;

/**
 * The number and its unit apart, for a stat panel that sets the unit smaller than the figure. The short form rounds
 * (99.46 reads "99.5"); where that would put the figure on the other side of a threshold, or on it, than the value
 * (99.46 against 99.5), decimals are added until it does not ("99.46"). A value too close to tell within
 * MAX_DECIMALS reads as the threshold with "<" or ">" ("<99.5").
 */
export function formatParts(value: number, unit: string, thresholds: readonly number[] = []): { number: string; suffix: string; spaced: boolean } {
  const scale = chooseScale(unit, value);
  const scaled = value / scale.factor;
  const sides = thresholds.map((threshold) => Math.sign(scaled - threshold / scale.factor));
  const faithful = (text: string) => thresholds.every((threshold, i) => Math.sign(Number(text) - threshold / scale.factor) === sides[i]);
  const parts = (number: string) => ({ number, suffix: scale.suffix, spaced: scale.spaced });
  const short = formatNumber(scaled);
  if (faithful(short)) return parts(short);
  const shortDecimals = short.split('.')[1]?.length ?? 0;
  for (let decimals = shortDecimals + 1; decimals <= MAX_DECIMALS; decimals++) {
    const text = formatNumber(scaled, decimals);
    if (faithful(text)) return parts(text);
  }
  // The threshold nearest the value is the one no number of decimals tells it from.
  const nearest = thresholds.reduce((a, b) => (Math.abs(b - value) < Math.abs(a - value) ? b : a));
  return parts(`${value < nearest ? '<' : '>'}${formatNumber(nearest / scale.factor)}`);
}
