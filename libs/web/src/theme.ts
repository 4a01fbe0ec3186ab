import { useSyncExternalStore } from 'react';

/**
 * Light or dark: 'system' follows the operating system (prefers-color-scheme, through CSS
 * `light-dark()` in base.css); 'light' and 'dark' pin it with `<html data-theme>`. Set from the
 * module script before the first render: there is no inline script (the CSP forbids one).
 */
export type ThemeChoice = 'light' | 'dark' | 'system';
export const THEME_CHOICES: readonly ThemeChoice[] = ['system', 'light', 'dark'];

const THEME_KEY = 'enclave.theme';
const listeners = new Set<() => void>();

export function savedTheme(): ThemeChoice {
  const saved = localStorage.getItem(THEME_KEY);
  return saved === 'light' || saved === 'dark' ? saved : 'system';
}

/** Applies the saved choice to the page (call once, before rendering). */
export function applySavedTheme(): void {
  applyTheme(savedTheme());
}

function applyTheme(choice: ThemeChoice): void {
  if (choice === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

export function chooseTheme(choice: ThemeChoice): void {
  if (choice === 'system') localStorage.removeItem(THEME_KEY);
  else localStorage.setItem(THEME_KEY, choice);
  applyTheme(choice);
  listeners.forEach((l) => l());
}

/** The saved choice, re-rendering when it changes. */
export function useThemeChoice(): ThemeChoice {
  return useSyncExternalStore((onChange) => {
    listeners.add(onChange);
    return () => listeners.delete(onChange);
  }, savedTheme);
}
