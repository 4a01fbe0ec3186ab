import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { chooseLanguage, type Language, LANGUAGES } from './i18n';
import { chooseTheme, THEME_CHOICES, type ThemeChoice, useThemeChoice } from './theme';

/** The language and light/dark pickers both UIs put in their header and on the sign-in card. */
export function Preferences(props: { className?: string }) {
  const { t, i18n } = useTranslation('web');
  const theme = useThemeChoice();
  const id = useId();
  return (
    <div className={`preferences ${props.className ?? ''}`}>
      <label htmlFor={`${id}-language`} className="visually-hidden">
        {t('preferences.language')}
      </label>
      <select
        id={`${id}-language`}
        value={i18n.language}
        onChange={(e) => chooseLanguage(e.target.value as Language)}
      >
        {LANGUAGES.map((l) => (
          <option key={l.code} value={l.code} lang={l.code}>
            {l.name}
          </option>
        ))}
      </select>
      <label htmlFor={`${id}-theme`} className="visually-hidden">
        {t('preferences.theme')}
      </label>
      <select
        id={`${id}-theme`}
        value={theme}
        onChange={(e) => chooseTheme(e.target.value as ThemeChoice)}
      >
        {THEME_CHOICES.map((c) => (
          <option key={c} value={c}>
            {t(`preferences.themes.${c}`)}
          </option>
        ))}
      </select>
    </div>
  );
}
