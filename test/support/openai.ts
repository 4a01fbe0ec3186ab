import OpenAI from 'openai';

/**
 * Jest runs test files in a VM context, so errors thrown by Node's fetch belong to another realm
 * and fail the SDK's `instanceof Error` check (a timeout then looks like a plain connection
 * error). Re-creating them in this realm gives the SDK its normal behaviour.
 */
export const realmFetch: typeof fetch = async (input, init) => {
  try {
    return await fetch(input, init);
  } catch (err) {
    const e = err as Error;
    const copy = new Error(e.message, { cause: e.cause });
    copy.name = e.name;
    throw copy;
  }
};

/** The official SDK pointed at Enclave, as a user's tool would be. */
export function openaiClient(baseURL: string, apiKey: string, timeout = 10_000): OpenAI {
  return new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout, fetch: realmFetch });
}
