import i18next from 'i18next';
import { useMemo } from 'react';
import { initReactI18next, useTranslation } from 'react-i18next';
import de from './locales/de.json';
import en from './locales/en.json';
import fr from './locales/fr.json';

/** The languages both web UIs ship, each named in itself (how a reader finds their own). */
export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'de', name: 'Deutsch' },
  { code: 'fr', name: 'Français' },
] as const;
export type Language = (typeof LANGUAGES)[number]['code'];

/** An app's own strings, one object per language (its `locales/*.json`). */
export type AppStrings = Record<Language, Record<string, unknown>>;

const LANGUAGE_KEY = 'enclave.language';
/** The shared components' strings (libs/web/src/locales), namespace `web`. */
const WEB_STRINGS: AppStrings = { en, de, fr };

function isLanguage(code: string | null | undefined): code is Language {
  return LANGUAGES.some((l) => l.code === code);
}

/** The reader's language: their choice (kept in localStorage), else the browser's, else English. */
export function preferredLanguage(): Language {
  const saved = localStorage.getItem(LANGUAGE_KEY);
  if (isLanguage(saved)) return saved;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLanguage(base)) return base;
  }
  return 'en';
}

/**
 * Starts i18next for one web UI, before the first render: the app's strings are the default
 * namespace (`app`), the shared components' are `web`. Everything is bundled, so it starts
 * synchronously and no text flashes in another language. `<html lang>` follows the language.
 */
export function initI18n(app: AppStrings): void {
  const resources = Object.fromEntries(
    LANGUAGES.map(({ code }) => [code, { app: app[code], web: WEB_STRINGS[code] }]),
  );
  void i18next.use(initReactI18next).init({
    resources,
    lng: preferredLanguage(),
    fallbackLng: 'en',
    ns: ['app', 'web'],
    defaultNS: 'app',
    initAsync: false,
    // React escapes what it renders; escaping here too would show `&amp;`.
    interpolation: { escapeValue: false },
  });
  document.documentElement.lang = i18next.language;
  i18next.on('languageChanged', (lng) => {
    document.documentElement.lang = lng;
  });
}

/** Switches the UI's language and remembers the choice in this browser. */
export function chooseLanguage(code: Language): void {
  localStorage.setItem(LANGUAGE_KEY, code);
  void i18next.changeLanguage(code);
}

/** The current language, for code outside React (formatting in plain functions). */
export function currentLanguage(): string {
  return i18next.language || 'en';
}

/** Dates and numbers in the chosen language (not the browser's), with Intl. */
export interface Formatters {
  number(n: number, options?: Intl.NumberFormatOptions): string;
  /** "5 Dec 2026" */
  date(value: string | number | Date): string;
  /** "5 Dec 2026, 14:05" */
  dateTime(value: string | number | Date): string;
  /** "14:05" */
  time(value: string | number | Date): string;
}

export function formattersFor(language: string): Formatters {
  const dates = {
    date: new Intl.DateTimeFormat(language, { dateStyle: 'medium' }),
    dateTime: new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' }),
    time: new Intl.DateTimeFormat(language, { timeStyle: 'short' }),
  };
  return {
    number: (n, options) => new Intl.NumberFormat(language, options).format(n),
    date: (v) => dates.date.format(new Date(v)),
    dateTime: (v) => dates.dateTime.format(new Date(v)),
    time: (v) => dates.time.format(new Date(v)),
  };
}

/** The formatters of the current language; a component using it re-renders when it changes. */
export function useFormat(): Formatters {
  const { i18n } = useTranslation();
  const language = i18n.language;
  return useMemo(() => formattersFor(language), [language]);
}
