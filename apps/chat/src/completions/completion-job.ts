import type { FinishedMessage } from '@enclave/conversations';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { Completion, CompletionChoice } from 'openai/resources/completions';
import type { ChatCompletionRequest, TextCompletionRequest } from './chat-request.schema.js';
import type { OtherChoice } from './stream-accumulator.js';

/**
 * What the pipeline records of a request, whichever /v1 endpoint it came through (chat or legacy
 * text completions): the same admission, message, accounting and `chat.completion` event.
 */
export interface CompletionJob {
  /** The /v1 path asked (a Responses request is answered as a chat completion). */
  endpoint: 'chat/completions' | 'completions' | 'responses';
  model: string;
  /**
   * The prompt as the audit trail's content levels see it: the messages, or a text completion's
   * prompts as messages of role `prompt`.
   */
  prompt: { role: string; content?: unknown }[];
}

export function chatJob(
  body: ChatCompletionRequest,
  endpoint: 'chat/completions' | 'responses' = 'chat/completions',
): CompletionJob {
  return { endpoint, model: body.model, prompt: body.messages };
}

export function textJob(body: TextCompletionRequest): CompletionJob {
  const prompts =
    typeof body.prompt === 'string' || typeof body.prompt[0] === 'number'
      ? [body.prompt]
      : body.prompt;
  return {
    endpoint: 'completions',
    model: body.model,
    prompt: prompts.map((p) => ({
      role: 'prompt',
      content: typeof p === 'string' ? p : `[${(p as number[]).length} tokens]`,
    })),
  };
}

/** Choice 0 (stored as the message) and the others (for the audit trail) of an answer. */
export function choicesOf(completion: ChatCompletion | Completion) {
  let stored: Pick<FinishedMessage, 'content' | 'toolCalls' | 'finishReason'> = {
    content: '',
    toolCalls: null,
    finishReason: null,
  };
  const others: OtherChoice[] = [];
  for (const choice of completion.choices as (ChatCompletion.Choice | CompletionChoice)[]) {
    const content = ('text' in choice ? choice.text : choice.message?.content) ?? '';
    const finishReason = choice.finish_reason ?? null;
    if (choice.index > 0) {
      others.push({ index: choice.index, content, finishReason });
    } else {
      const toolCalls = 'message' in choice ? (choice.message?.tool_calls ?? null) : null;
      stored = { content, toolCalls, finishReason };
    }
  }
  return { stored, others };
}
