import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';
import { MAX_PASSWORD_LENGTH } from '@enclave/contracts';
import { ApiError } from '@enclave/http';

export const MIN_PASSWORD_LENGTH = 12;
// Sign-in (libs/contracts) accepts passwords up to MAX_PASSWORD_LENGTH, so longer ones could
// never be used.
export { MAX_PASSWORD_LENGTH };
/** zxcvbn's "safely unguessable" (about 10^10 guesses): 3 of 4. */
const MIN_SCORE = 3;
/** zxcvbn's time grows with length; the first 100 characters decide how guessable it is. */
const CHECKED_LENGTH = 100;

/** Built on first use: loading the dictionaries takes seconds, and most processes never need it. */
let checker: ZxcvbnFactory | null = null;
function strengthChecker(): ZxcvbnFactory {
  checker ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...english.dictionary },
    graphs: common.adjacencyGraphs,
    translations: english.translations,
  });
  return checker;
}

/**
 * Refuses a password a person chose when it is too short or too long, or common, breached or
 * otherwise guessable (zxcvbn with its common and English dictionaries, and the account's own
 * email as a word to avoid): 400 `weak_password` with the checker's advice.
 */
export function checkPasswordStrength(password: string, userInputs: string[] = []): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new ApiError(
      400,
      'weak_password',
      `A password needs at least ${MIN_PASSWORD_LENGTH} characters.`,
      { param: 'password' },
    );
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new ApiError(
      400,
      'password_too_long',
      `A password can have at most ${MAX_PASSWORD_LENGTH} characters.`,
      { param: 'password' },
    );
  }
  const inputs = userInputs.flatMap((s) => [s, ...s.split(/[@._+-]/)]).filter((s) => s.length > 2);
  const result = strengthChecker().check(password.slice(0, CHECKED_LENGTH), inputs);
  if (result.score < MIN_SCORE) {
    const advice = [result.feedback.warning, ...result.feedback.suggestions].filter(Boolean);
    throw new ApiError(
      400,
      'weak_password',
      `This password is too easy to guess${advice.length ? `: ${advice.join(' ')}` : '.'} A few unrelated words make a strong one.`,
      { param: 'password' },
    );
  }
}
