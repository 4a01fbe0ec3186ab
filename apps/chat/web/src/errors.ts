import { currentLanguage } from '@enclave/web';
import i18next from 'i18next';
import { type ApiFailure, CONNECTION_LOST } from './api';

/** An error as the page shows it: what happened, what to do, and whether Retry can help. */
export interface UiError {
  kind: 'quota' | 'rate' | 'model' | 'interrupted' | 'connection' | 'other';
  title: string;
  detail: string;
  retryable: boolean;
}

const MODEL_TROUBLE = new Set([
  'model_not_found',
  'model_not_allowed',
  'no_backend_available',
  'upstream_unavailable',
  'upstream_timeout',
  'upstream_error',
  'upstream_rejected_request',
]);

/** When a used-up quota comes back: the time the server names, else now + Retry-After. */
export function quotaResetsAt(f: ApiFailure, now = new Date()): Date | null {
  const named = /resets at (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)/.exec(f.message);
  if (named) return new Date(named[1]!);
  return f.retryAfter === null ? null : new Date(now.getTime() + f.retryAfter * 1000);
}

/** "Nov 28, 2026, 1:00 AM (in 3 h 20 min)" in the chosen language and the reader's time zone. */
export function formatReset(at: Date, now = new Date()): string {
  const minutes = Math.max(1, Math.ceil((at.getTime() - now.getTime()) / 60_000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const t = i18next.t;
  const span = days
    ? t('errors.spanDays', { days, hours })
    : hours
      ? t('errors.spanHours', { hours, mins })
      : t('errors.spanMinutes', { mins });
  const when = at.toLocaleString(currentLanguage(), { dateStyle: 'medium', timeStyle: 'short' });
  return t('errors.resetsAt', { when, span });
}

/** The server's message stays as it is (the API speaks English); the page's own words follow the language. */
export function describeFailure(f: ApiFailure, model: string, now = new Date()): UiError {
  const t = i18next.t;
  if (f.code === 'quota_exceeded') {
    const at = quotaResetsAt(f, now);
    return {
      kind: 'quota',
      title: t('errors.quota.title'),
      detail: at ? t('errors.quota.detail', { reset: formatReset(at, now) }) : f.message,
      retryable: false,
    };
  }
  if (f.code === 'rate_limited' || f.code === 'upstream_rate_limited') {
    return {
      kind: 'rate',
      title: t('errors.rate.title'),
      detail:
        f.retryAfter !== null
          ? t('errors.rate.wait', { seconds: f.retryAfter })
          : t('errors.rate.detail', { message: f.message }),
      retryable: true,
    };
  }
  if (MODEL_TROUBLE.has(f.code)) {
    return {
      kind: 'model',
      title: t('errors.model.title', { model }),
      detail: t('errors.model.detail', { message: f.message }),
      retryable: true,
    };
  }
  if (f.code === 'upstream_stream_broken') {
    return {
      kind: 'interrupted',
      title: t('errors.interrupted.title'),
      detail: t('errors.interrupted.detail'),
      retryable: true,
    };
  }
  if (f.code === CONNECTION_LOST) {
    return {
      kind: 'connection',
      title: t('errors.connection.title'),
      detail: t('errors.connection.detail'),
      retryable: true,
    };
  }
  return {
    kind: 'other',
    title: t('errors.other.title'),
    detail: f.message,
    retryable: f.status >= 500,
  };
}
