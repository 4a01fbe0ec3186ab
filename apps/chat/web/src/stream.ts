import type { SendMessageBody } from '@enclave/contracts';
import i18next from 'i18next';
import type { z } from 'zod';
import { ApiFailure, connectionLost, failureOf, writeHeaders } from './api';
import { SseParser } from './sse';

export type Turn = { content: string } | { regenerate: true };

/** How a streamed answer ended. */
export type StreamEnd =
  | { kind: 'done' }
  /** The person pressed Stop. */
  | { kind: 'stopped' }
  /** Refused or failed before the answer began (nothing streamed). */
  | { kind: 'refused'; failure: ApiFailure }
  /** Broke off after the answer began: the server's error event, or the connection dropped. */
  | { kind: 'interrupted'; failure: ApiFailure };

export interface StreamCallbacks {
  /** The answer began; `backend` names the model server that answers. */
  onStart(backend: string | null): void;
  onText(text: string): void;
}

interface Chunk {
  choices?: { delta?: { content?: string | null } }[];
  error?: { code?: string; message?: string };
}

/**
 * Adds a message to the conversation (or asks to regenerate the last answer) and reads the
 * answer as the server streams it: OpenAI chunks as Server-Sent Events, then `[DONE]`.
 */
export async function streamTurn(
  conversationId: string,
  model: string,
  turn: Turn,
  signal: AbortSignal,
  on: StreamCallbacks,
): Promise<StreamEnd> {
  let res: Response;
  try {
    res = await fetch(`/api/conversations/${encodeURIComponent(conversationId)}/messages`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { ...writeHeaders(true), accept: 'text/event-stream' },
      body: JSON.stringify({ model, ...turn } satisfies z.input<typeof SendMessageBody>),
      signal,
    });
  } catch {
    return signal.aborted ? { kind: 'stopped' } : { kind: 'refused', failure: connectionLost() };
  }
  if (!res.ok || !res.body) return { kind: 'refused', failure: await failureOf(res) };
  on.onStart(res.headers.get('x-enclave-upstream'));

  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const data of parser.push(value)) {
        if (data === '[DONE]') return { kind: 'done' };
        const chunk = JSON.parse(data) as Chunk;
        if (chunk.error) {
          return {
            kind: 'interrupted',
            failure: new ApiFailure(
              502,
              chunk.error.code ?? 'stream_error',
              chunk.error.message ?? i18next.t('errors.brokeOff'),
            ),
          };
        }
        const text = chunk.choices?.[0]?.delta?.content;
        if (text) on.onText(text);
      }
    }
  } catch {
    // A dropped connection or a cut stream; an abort is the person's own Stop.
  } finally {
    reader.releaseLock();
  }
  return signal.aborted ? { kind: 'stopped' } : { kind: 'interrupted', failure: connectionLost() };
}
