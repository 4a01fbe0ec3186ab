// The browser code both web UIs share (apps/chat/web and apps/admin/web import it as
// `@enclave/web`, a Vite alias): the API client core, the session gate, the sign-in form and the
// confirm dialog, the language and colour-scheme set-up (i18n.ts, theme.ts) and their pickers.
// The shared stylesheet is `@enclave/web/base.css`, imported at the top of each app's styles.css.
// Built by each app's Vite build, never by the Node build (tsconfig.json leaves libs/web out).
export {
  ApiFailure,
  CONNECTION_LOST,
  createApiClient,
  type ApiClient,
  type ApiClientOptions,
  type AuthApi,
} from './api-client';
export { ChangePassword } from './ChangePassword';
export { ConfirmDialog } from './ConfirmDialog';
export { SessionGate, type SignInText } from './SessionGate';
export { SignIn, type SignInProps } from './SignIn';
export {
  chooseLanguage,
  currentLanguage,
  formattersFor,
  type AppStrings,
  type Formatters,
  initI18n,
  type Language,
  LANGUAGES,
  useFormat,
} from './i18n';
export { Preferences } from './Preferences';
export { applySavedTheme, chooseTheme, type ThemeChoice, useThemeChoice } from './theme';
