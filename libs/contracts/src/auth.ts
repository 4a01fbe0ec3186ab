import { z } from 'zod';
import { Role } from './roles.js';
import { line } from './text.js';

// The session endpoints (`/api/auth/*`) both web UIs use through libs/web.

/** The longest password sign-in accepts, so also the longest one that may be set. */
export const MAX_PASSWORD_LENGTH = 1024;

/** `GET /api/auth/config`: how this Enclave lets people sign in. */
export const AuthConfig = z.object({
  localLogin: z.boolean(),
  sso: z.object({ enabled: z.boolean(), label: z.string().nullable() }),
  /** Where the chat UI is for the browser that asked: the console links there. */
  chatUrl: z.string(),
});
export type AuthConfig = z.infer<typeof AuthConfig>;

/** `POST /api/auth/login` */
export const SignInBody = z.strictObject({
  email: line().trim().min(3).max(320),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});
export type SignInBody = z.infer<typeof SignInBody>;

/** `POST /api/auth/password`; the server checks the new one's strength (400 `weak_password`). */
export const ChangePasswordBody = z.strictObject({
  currentPassword: z.string().min(1).max(MAX_PASSWORD_LENGTH),
  newPassword: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});
export type ChangePasswordBody = z.infer<typeof ChangePasswordBody>;

/** The signed-in account. */
export const Me = z.object({ id: z.string(), email: z.string(), role: Role });
export type Me = z.infer<typeof Me>;

/** `GET /api/auth/me`: who is signed in, and the CSRF token a session's writes must echo. */
export const Session = z.object({
  user: Me,
  via: z.enum(['session', 'api_key']),
  /** null when signed in with an API key (no cookie, so no CSRF). */
  csrfToken: z.string().nullable(),
  /** A one-time password must be replaced before anything else. */
  passwordChangeRequired: z.boolean(),
});
export type Session = z.infer<typeof Session>;

/** `POST /api/auth/login` */
export const SignedIn = z.object({
  user: Me,
  csrfToken: z.string(),
  expiresAt: z.string(),
  passwordChangeRequired: z.boolean(),
});
export type SignedIn = z.infer<typeof SignedIn>;
