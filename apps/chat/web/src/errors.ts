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

/** "Nov 28, 2026, 1:00 AM (in 3 h 20 min)" in the reader's own locale and time zone. */
export function formatReset(at: Date, now = new Date()): string {
  const minutes = Math.max(1, Math.ceil((at.getTime() - now.getTime()) / 60_000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const span = days ? `${days} d ${hours} h` : hours ? `${hours} h ${mins} min` : `${mins} min`;
  const when = at.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  return `${when} (in ${span})`;
}

export function describeFailure(f: ApiFailure, model: string, now = new Date()): UiError {
  if (f.code === 'quota_exceeded') {
    const at = quotaResetsAt(f, now);
    return {
      kind: 'quota',
      title: 'Your token quota is used up',
      detail: at
        ? `You can chat again when it resets on ${formatReset(at, now)}. An administrator can raise your quota.`
        : f.message,
      retryable: false,
    };
  }
  if (f.code === 'rate_limited' || f.code === 'upstream_rate_limited') {
    return {
      kind: 'rate',
      title: 'Too many requests right now',
      detail:
        f.retryAfter !== null
          ? `Wait ${f.retryAfter} s, then try again.`
          : `${f.message} Try again.`,
      retryable: true,
    };
  }
  if (MODEL_TROUBLE.has(f.code)) {
    return {
      kind: 'model',
      title: `The model “${model}” is unavailable`,
      detail: `${f.message} Pick another model, or try again later.`,
      retryable: true,
    };
  }
  if (f.code === 'upstream_stream_broken') {
    return {
      kind: 'interrupted',
      title: 'The answer broke off',
      detail: 'The model server stopped in the middle of the answer. What arrived is kept below.',
      retryable: true,
    };
  }
  if (f.code === CONNECTION_LOST) {
    return {
      kind: 'connection',
      title: 'Connection lost',
      detail:
        'The connection to Enclave dropped. Anything already answered is kept; retry when you are back online.',
      retryable: true,
    };
  }
  return {
    kind: 'other',
    title: 'Something went wrong',
    detail: f.message,
    retryable: f.status >= 500,
  };
}
