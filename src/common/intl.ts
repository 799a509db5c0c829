/** Zones already checked, with the answer: building a formatter to find out costs ~60 µs, looking it up microseconds. */
const checkedZones = new Map<string, boolean>();
/** Intl accepts a zone in any letter case, so the spellings asked for are bounded by clearing, not trusted. */
const MAX_CHECKED_ZONES = 64;

/** An IANA time zone Intl knows (`Europe/Berlin`, `UTC`): the render API's `timeZone` and DISCORD_RENDER_TIME_ZONE. */
export function isValidTimeZone(timeZone: string): boolean {
  let valid = checkedZones.get(timeZone);
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
      valid = true;
    } catch {
      valid = false;
    }
    if (checkedZones.size >= MAX_CHECKED_ZONES) checkedZones.clear();
    checkedZones.set(timeZone, valid);
  }
  return valid;
}

/** One BCP 47 language tag (`de`, `en-GB`): the render API's `locale`, DISCORD_RENDER_LOCALE, an interaction's locale. */
export function isValidLocale(locale: string): boolean {
  try {
    return Intl.getCanonicalLocales(locale).length === 1;
  } catch {
    return false;
  }
}
