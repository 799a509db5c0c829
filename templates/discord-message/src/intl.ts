// Date formatting for the template. Building an Intl formatter costs ~0.25 ms (ICU loads the locale's patterns);
// formatting with a built one costs microseconds, so formatters are kept per (locale, options) across renders.

/** Enough for every locale × style a deployment uses; past it the cache starts over instead of growing. */
const MAX_FORMATTERS = 64;
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const relativeFormats = new Map<string, Intl.RelativeTimeFormat>();
const numberFormats = new Map<string, Intl.NumberFormat>();

function cached<T>(cache: Map<string, T>, key: string, create: () => T): T {
  let formatter = cache.get(key);
  if (!formatter) {
    formatter = create();
    if (cache.size >= MAX_FORMATTERS) cache.clear();
    cache.set(key, formatter);
  }
  return formatter;
}

export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return cached(dateFormats, `${locale}\u0000${JSON.stringify(options)}`, () => new Intl.DateTimeFormat(locale, options));
}

export function relativeTimeFormat(locale: string): Intl.RelativeTimeFormat {
  return cached(relativeFormats, locale, () => new Intl.RelativeTimeFormat(locale, { numeric: 'always' }));
}

/** How the client shows a message's or an embed's time past yesterday: short date and time in the viewer's locale and zone. */
function formatShortDateTime(iso: string, locale: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return dateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'short', timeZone }).format(date);
}

/**
 * A message's or an embed's time as the client writes it: "Today at 9:30 AM" / "Yesterday at 9:30 AM" when the service found
 * the message to be from today or yesterday (calendar style), else the short date and time. Other locales get the
 * day's own word ("Heute 09:30").
 */
export function formatMessageTime(iso: string, day: 'today' | 'yesterday' | null, locale: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  if (!day) return formatShortDateTime(iso, locale, timeZone);
  const time = dateTimeFormat(locale, { timeStyle: 'short', timeZone }).format(date);
  if (/^en\b/i.test(locale)) return `${day === 'today' ? 'Today' : 'Yesterday'} at ${time}`;
  const word = cached(relativeFormats, `${locale}\u0000auto`, () => new Intl.RelativeTimeFormat(locale, { numeric: 'auto' })).format(day === 'today' ? 0 : -1, 'day');
  return `${word.charAt(0).toLocaleUpperCase(locale)}${word.slice(1)} ${time}`;
}

/** A conversation's date separator: the long date ("May 1, 2024"). */
export function formatSeparatorDate(iso: string, locale: string, timeZone: string): string {
  return dateTimeFormat(locale, { dateStyle: 'long', timeZone }).format(new Date(iso));
}

const SIZE_UNITS = ['KB', 'MB', 'GB'];

/** A file card's size as the client writes it: "512 bytes", "1.50 KB" (1024-based, two decimals in the locale's own digits and separator). */
export function formatFileSize(bytes: number, locale: string): string {
  let value = Math.max(0, bytes);
  if (value < 1024) return `${value} bytes`;
  let unit = -1;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const format = cached(numberFormats, locale, () => new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2, useGrouping: false }));
  return `${format.format(value)} ${SIZE_UNITS[unit]}`;
}
