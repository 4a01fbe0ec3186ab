import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Completion } from 'openai/resources/completions';

interface ToolCallAcc {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** One choice of the answer as it builds up. */
interface ChoiceAcc {
  content: string;
  finishReason: string | null;
  toolCalls: ToolCallAcc[];
}

/** A streamed chunk of either endpoint: chat (`delta`) or legacy text completions (`text`). */
export type AnswerChunk = ChatCompletionChunk | Completion;

/** A choice beyond the first, as the audit trail keeps it (the message row holds choice 0). */
export interface OtherChoice {
  index: number;
  content: string;
  finishReason: string | null;
}

/**
 * Rebuilds the whole answer from streamed chunks, to store what the client was sent: every
 * choice by its `index` (a request with `n` > 1 streams them interleaved).
 */
export class StreamAccumulator {
  promptTokens: number | null = null;
  completionTokens: number | null = null;
  /** Content deltas seen: the completion token estimate when the stream ends without usage. */
  deltas = 0;
  private readonly choices: ChoiceAcc[] = [];

  add(chunk: AnswerChunk): void {
    if (chunk.usage) {
      this.promptTokens = chunk.usage.prompt_tokens;
      this.completionTokens = chunk.usage.completion_tokens;
    }
    for (const choice of chunk.choices) {
      const acc = (this.choices[choice.index ?? 0] ??= {
        content: '',
        finishReason: null,
        toolCalls: [],
      });
      const text = 'delta' in choice ? choice.delta?.content : choice.text;
      if (text) {
        acc.content += text;
        this.deltas++;
      }
      for (const call of ('delta' in choice && choice.delta?.tool_calls) || []) {
        const t = (acc.toolCalls[call.index] ??= {
          id: '',
          type: 'function',
          function: { name: '', arguments: '' },
        });
        if (call.id) t.id = call.id;
        if (call.function?.name) t.function.name += call.function.name;
        if (call.function?.arguments) t.function.arguments += call.function.arguments;
      }
      if (choice.finish_reason) acc.finishReason = choice.finish_reason;
    }
  }

  /** Choice 0's text: what the message row stores. */
  get content(): string {
    return this.choices[0]?.content ?? '';
  }

  get finishReason(): string | null {
    return this.choices[0]?.finishReason ?? null;
  }

  /** Choices 1 and up (n > 1), for the audit trail. */
  get others(): OtherChoice[] {
    return this.choices
      .map((c, index) => ({ index, content: c.content, finishReason: c.finishReason }))
      .filter((c) => c.index > 0);
  }

  /** Choice 0 as a non-streamed completion (to cache it; only n = 1 is cached), given the last chunk. */
  toCompletion(last: ChatCompletionChunk): ChatCompletion {
    return {
      id: last.id,
      object: 'chat.completion',
      created: last.created,
      model: last.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: this.calls ? null : this.content,
            refusal: null,
            ...(this.calls ? { tool_calls: this.calls } : {}),
          },
          finish_reason: (this.finishReason ?? 'stop') as ChatCompletion.Choice['finish_reason'],
          logprobs: null,
        },
      ],
      ...(this.promptTokens !== null && this.completionTokens !== null
        ? {
            usage: {
              prompt_tokens: this.promptTokens,
              completion_tokens: this.completionTokens,
              total_tokens: this.promptTokens + this.completionTokens,
            },
          }
        : {}),
    };
  }

  /** Choice 0's tool calls, null when it made none. */
  get calls(): ToolCallAcc[] | null {
    const calls = (this.choices[0]?.toolCalls ?? []).filter(Boolean);
    return calls.length ? calls : null;
  }
}

/** A cached answer sent as a stream: the role, the whole content (or tool calls), the finish, usage. */
export async function* replayAsChunks(
  completion: ChatCompletion,
): AsyncIterable<ChatCompletionChunk> {
  const base = {
    id: completion.id,
    object: 'chat.completion.chunk' as const,
    created: completion.created,
    model: completion.model,
  };
  const message = completion.choices[0]?.message;
  yield {
    ...base,
    choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
  };
  if (message?.content) {
    yield {
      ...base,
      choices: [{ index: 0, delta: { content: message.content }, finish_reason: null }],
    };
  }
  if (message?.tool_calls?.length) {
    yield {
      ...base,
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: message.tool_calls.map((c, index) => ({
              index,
              id: c.id,
              type: 'function' as const,
              function: c.type === 'function' ? c.function : { name: '', arguments: '' },
            })),
          },
          finish_reason: null,
        },
      ],
    };
  }
  yield {
    ...base,
    choices: [
      { index: 0, delta: {}, finish_reason: completion.choices[0]?.finish_reason ?? 'stop' },
    ],
  };
  if (completion.usage) yield { ...base, choices: [], usage: completion.usage };
}
