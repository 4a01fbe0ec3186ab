import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';

interface ToolCallAcc {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** Rebuilds the whole answer from streamed chunks, to store what the client was sent. */
export class StreamAccumulator {
  content = '';
  finishReason: string | null = null;
  promptTokens: number | null = null;
  completionTokens: number | null = null;
  /** Content deltas seen: the completion token estimate when the stream ends without usage. */
  deltas = 0;
  private readonly toolCalls: ToolCallAcc[] = [];

  add(chunk: ChatCompletionChunk): void {
    if (chunk.usage) {
      this.promptTokens = chunk.usage.prompt_tokens;
      this.completionTokens = chunk.usage.completion_tokens;
    }
    const choice = chunk.choices[0];
    if (!choice) return;
    if (choice.delta?.content) {
      this.content += choice.delta.content;
      this.deltas++;
    }
    for (const call of choice.delta?.tool_calls ?? []) {
      const acc = (this.toolCalls[call.index] ??= {
        id: '',
        type: 'function',
        function: { name: '', arguments: '' },
      });
      if (call.id) acc.id = call.id;
      if (call.function?.name) acc.function.name += call.function.name;
      if (call.function?.arguments) acc.function.arguments += call.function.arguments;
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
  }

  /** The whole answer as a non-streamed completion (to cache it), given the stream's last chunk. */
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

  get calls(): ToolCallAcc[] | null {
    const calls = this.toolCalls.filter(Boolean);
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
