/** Calendar windows in UTC: the minute for request rates, the day and month for token quotas. */
export interface Window {
  id: string;
  end: Date;
}

export function minuteWindow(now: Date): Window {
  const start = Math.floor(now.getTime() / 60_000) * 60_000;
  return { id: new Date(start).toISOString().slice(0, 16), end: new Date(start + 60_000) };
}

export function dayWindow(now: Date): Window {
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return { id: now.toISOString().slice(0, 10), end: new Date(end) };
}

export function monthWindow(now: Date): Window {
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  return { id: now.toISOString().slice(0, 7), end: new Date(end) };
}

/** Whole seconds until the window ends, at least 1 (for Retry-After). */
export function secondsUntil(end: Date, now: Date): number {
  return Math.max(1, Math.ceil((end.getTime() - now.getTime()) / 1000));
}
