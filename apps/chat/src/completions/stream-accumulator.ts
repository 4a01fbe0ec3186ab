import type { ChatCompletionChunk } from 'openai/resources/chat/completions';

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

  get calls(): ToolCallAcc[] | null {
    const calls = this.toolCalls.filter(Boolean);
    return calls.length ? calls : null;
  }
}
