import type { ChatCompletion } from 'openai/resources/chat/completions';
import type {
  Response,
  ResponseFunctionToolCall,
  ResponseOutputItem,
  ResponseOutputMessage,
  ResponseUsage,
  Tool,
} from 'openai/resources/responses/responses';
import { randomUUID } from 'node:crypto';
import type { ResponsesRequest } from './responses-request.schema.js';

// The Response object: built from a chat completion for the backends that speak only chat, or
// taken from a backend that serves the Responses API; and back to a chat completion, which is
// what Enclave stores, counts and audits for every answer.

/** OpenAI-style ids: a prefix naming the kind of object and 32 hex digits. */
export function newId(prefix: 'resp' | 'msg' | 'fc'): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}

export interface ResponseFrame {
  id: string;
  createdAt: number;
  request: ResponsesRequest;
  store: boolean;
}

/** The Response with no output yet: what `response.created` carries, and the base of the final one. */
export function responseShell(frame: ResponseFrame): Response {
  const { request: r } = frame;
  return {
    id: frame.id,
    object: 'response',
    created_at: frame.createdAt,
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: r.instructions ?? null,
    max_output_tokens: r.max_output_tokens ?? null,
    metadata: r.metadata ?? {},
    model: r.model,
    output: [],
    output_text: '',
    parallel_tool_calls: r.parallel_tool_calls ?? true,
    previous_response_id: r.previous_response_id ?? null,
    store: frame.store,
    temperature: r.temperature ?? null,
    text: { format: r.text?.format ?? { type: 'text' } },
    tool_choice: (r.tool_choice ?? 'auto') as Response['tool_choice'],
    tools: (r.tools ?? []).map((t) => ({
      type: 'function',
      name: t.name!,
      description: t.description ?? null,
      parameters: t.parameters ?? null,
      strict: t.strict ?? null,
    })) as Tool[],
    top_p: r.top_p ?? null,
    truncation: r.truncation ?? 'disabled',
    usage: undefined,
    user: r.user,
  } as Response & { store: boolean };
}

/** What the answer's finish reason means for the response's status. */
export function statusOf(
  finishReason: string | null,
): Pick<Response, 'status' | 'incomplete_details'> {
  if (finishReason === 'length') {
    return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  }
  if (finishReason === 'content_filter') {
    return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  }
  return { status: 'completed', incomplete_details: null };
}

export function usageOf(
  promptTokens: number | null,
  completionTokens: number | null,
): ResponseUsage {
  const input = promptTokens ?? 0;
  const output = completionTokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  };
}

export function messageItem(id: string, text: string, status: ResponseOutputMessage['status']) {
  return {
    id,
    type: 'message',
    role: 'assistant',
    status,
    content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  } satisfies ResponseOutputMessage;
}

export function functionCallItem(
  id: string,
  call: { id: string; name: string; arguments: string },
  status: NonNullable<ResponseFunctionToolCall['status']>,
) {
  return {
    id,
    type: 'function_call',
    call_id: call.id,
    name: call.name,
    arguments: call.arguments,
    status,
  } satisfies ResponseFunctionToolCall;
}

/** The final response from the answer's parts (a chat completion's, or a stream's accumulated). */
export function finishedResponse(
  frame: ResponseFrame,
  answer: {
    content: string;
    toolCalls: { id: string; name: string; arguments: string }[];
    finishReason: string | null;
    promptTokens: number | null;
    completionTokens: number | null;
  },
  ids: { message: string; calls: string[] } = {
    message: newId('msg'),
    calls: answer.toolCalls.map(() => newId('fc')),
  },
): Response {
  const output: ResponseOutputItem[] = [];
  if (answer.content || answer.toolCalls.length === 0) {
    output.push(messageItem(ids.message, answer.content, 'completed'));
  }
  answer.toolCalls.forEach((call, i) =>
    output.push(functionCallItem(ids.calls[i]!, call, 'completed')),
  );
  return {
    ...responseShell(frame),
    ...statusOf(answer.finishReason),
    output,
    output_text: answer.content,
    usage: usageOf(answer.promptTokens, answer.completionTokens),
    completed_at: Math.floor(Date.now() / 1000),
  };
}

/** A chat completion as the Response to the request it answered. */
export function fromCompletion(frame: ResponseFrame, completion: ChatCompletion): Response {
  const choice = completion.choices[0];
  return finishedResponse(frame, {
    content: choice?.message?.content ?? '',
    toolCalls: (choice?.message?.tool_calls ?? []).flatMap((c) =>
      c.type === 'function'
        ? [{ id: c.id, name: c.function.name, arguments: c.function.arguments }]
        : [],
    ),
    finishReason: choice?.finish_reason ?? null,
    promptTokens: completion.usage?.prompt_tokens ?? null,
    completionTokens: completion.usage?.completion_tokens ?? null,
  });
}

/**
 * A backend's own Response, under Enclave's id and with the request's own settings echoed (the
 * backend saw the whole conversation, not previous_response_id; fields it left out come from the
 * request).
 */
export function relayedResponse(frame: ResponseFrame, upstream: Response): Response {
  return {
    ...responseShell(frame),
    ...upstream,
    output_text: outputText(upstream),
    id: frame.id,
    previous_response_id: frame.request.previous_response_id ?? null,
    instructions: frame.request.instructions ?? null,
    metadata: frame.request.metadata ?? {},
    model: frame.request.model,
    store: frame.store,
  } as Response;
}

/** The text of a response's messages, joined. */
export function outputText(response: Response): string {
  return response.output
    .flatMap((item) => (item.type === 'message' ? item.content : []))
    .map((part) => (part.type === 'output_text' ? part.text : ''))
    .join('');
}

/**
 * A backend's Response as the chat completion Enclave records (content, tool calls, finish
 * reason, tokens), so answers are stored, counted and audited alike whichever API the backend
 * speaks.
 */
export function toCompletion(response: Response): ChatCompletion {
  const calls = response.output.filter(
    (item): item is ResponseFunctionToolCall => item.type === 'function_call',
  );
  const content = outputText(response);
  const finish =
    calls.length > 0
      ? 'tool_calls'
      : response.incomplete_details?.reason === 'max_output_tokens'
        ? 'length'
        : response.incomplete_details?.reason === 'content_filter'
          ? 'content_filter'
          : 'stop';
  return {
    id: response.id,
    object: 'chat.completion',
    created: response.created_at,
    model: response.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: calls.length && !content ? null : content,
          refusal: null,
          ...(calls.length
            ? {
                tool_calls: calls.map((c) => ({
                  id: c.call_id,
                  type: 'function' as const,
                  function: { name: c.name, arguments: c.arguments },
                })),
              }
            : {}),
        },
        finish_reason: finish,
        logprobs: null,
      },
    ],
    ...(response.usage
      ? {
          usage: {
            prompt_tokens: response.usage.input_tokens,
            completion_tokens: response.usage.output_tokens,
            total_tokens: response.usage.total_tokens,
          },
        }
      : {}),
  };
}
