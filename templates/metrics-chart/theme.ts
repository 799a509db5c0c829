import type { ChartTheme, ThresholdLevel } from '../../src/metrics/chart-input';

export interface Palette {
  panel: string;
  border: string;
  text: string;
  muted: string;
  gridLine: string;
  axisLine: string;
  series: string[];
  levels: Record<ThresholdLevel, string>;
  /** Opacity of a threshold's shaded band. */
  bandOpacity: number;
  areaOpacity: number;
}

// Colours after Grafana's classic palettes, which people already read at a glance on dashboards.
export const PALETTES: Record<ChartTheme, Palette> = {
  dark: {
    panel: '#181b1f',
    border: '#2c3235',
    text: '#d8d9da',
    muted: '#9fa7b3',
    gridLine: 'rgba(204, 204, 220, 0.10)',
    axisLine: 'rgba(204, 204, 220, 0.28)',
    series: ['#73bf69', '#f2cc0c', '#8ab8ff', '#ff780a', '#f2495c', '#5794f2', '#b877d9', '#ff9830', '#96d98d', '#ca95e5'],
    levels: { ok: '#73bf69', info: '#8ab8ff', warning: '#ff9830', critical: '#f2495c' },
    bandOpacity: 0.1,
    areaOpacity: 0.22,
  },
  light: {
    panel: '#ffffff',
    border: '#d8dce3',
    text: '#24292e',
    muted: '#5c6370',
    gridLine: 'rgba(36, 41, 46, 0.10)',
    axisLine: 'rgba(36, 41, 46, 0.30)',
    series: ['#37872d', '#c69c00', '#1f60c4', '#e55400', '#c4162a', '#3274d9', '#8f3bb8', '#e0752d', '#56a64b', '#a352cc'],
    levels: { ok: '#37872d', info: '#1f60c4', warning: '#e0752d', critical: '#c4162a' },
    bandOpacity: 0.08,
    areaOpacity: 0.18,
  },
};

export const FONT_FAMILY = "Inter, 'Noto Sans', 'DejaVu Sans', sans-serif";
