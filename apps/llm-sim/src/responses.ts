import { randomBytes } from 'node:crypto';
import { type ChatPlan, planChat } from './chat.js';
import { RequestError } from './http.js';

/**
 * POST /v1/responses, for a simulator started with `responsesApi: true` (a backend that serves
 * OpenAI's Responses API itself, as vLLM and OpenAI do). The request is read as the equivalent
 * chat completion, so an answer is the same words as the chat endpoint would give; the answer is
 * a Response object, or its events when streamed (sent all at once, after the ttft).
 */

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Input parts as chat content parts (the simulator counts the words of `text` parts). */
function parts(content: unknown): unknown {
  if (!Array.isArray(content)) return content ?? '';
  return content.map((p) =>
    isObject(p) && typeof p.text === 'string' ? { type: 'text', text: p.text } : p,
  );
}

/** The chat completion body saying what the Responses request says. */
function asChatBody(body: Record<string, unknown>): Record<string, unknown> {
  const messages: Record<string, unknown>[] = [];
  if (typeof body.instructions === 'string') {
    messages.push({ role: 'system', content: body.instructions });
  }
  const input =
    typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
  if (!Array.isArray(input))
    throw new RequestError("'input' must be a string or an array", 'input');
  for (const item of input as unknown[]) {
    if (!isObject(item)) throw new RequestError("'input' items must be objects", 'input');
    const type = item.type ?? 'message';
    if (type === 'message') {
      messages.push({ role: item.role, content: parts(item.content) });
    } else if (type === 'function_call') {
      messages.push({
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: item.call_id,
            type: 'function',
            function: { name: item.name, arguments: item.arguments },
          },
        ],
      });
    } else if (type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: parts(item.output) });
    } else {
      throw new RequestError(`input item type '${String(type)}' is not supported`, 'input');
    }
  }
  const tools = Array.isArray(body.tools)
    ? (body.tools as Record<string, unknown>[]).map((t) => ({
        type: 'function',
        function: { name: t.name, parameters: t.parameters },
      }))
    : undefined;
  const choice = body.tool_choice;
  const format = isObject(body.text) && isObject(body.text.format) ? body.text.format : null;
  return {
    model: body.model,
    messages,
    stream: body.stream,
    max_tokens: body.max_output_tokens ?? undefined,
    tools,
    tool_choice: isObject(choice) ? { type: 'function', function: { name: choice.name } } : choice,
    response_format:
      format?.type === 'json_schema'
        ? { type: 'json_schema', json_schema: { schema: format.schema } }
        : (format ?? undefined),
  };
}

export function planResponse(body: unknown, replyTokens: number, defaultModel: string): ChatPlan {
  if (!isObject(body)) throw new RequestError('The request body must be a JSON object');
  return planChat(asChatBody(body), replyTokens, defaultModel);
}

const idPrefix = randomBytes(4).toString('hex');
let idCounter = 0;
function id(kind: string): string {
  idCounter = (idCounter + 1) % 0x100000000;
  return `${kind}_sim${idPrefix}${idCounter.toString(16).padStart(8, '0')}`;
}

/** The Response object of a whole answer (`status` in_progress: the shell of a stream's start). */
function responseObject(plan: ChatPlan, respId: string, created: number, done: boolean) {
  // A Response has one answer: the first of the plan's choices.
  const c = plan.choices[0]!;
  const output = !done
    ? []
    : c.toolCall
      ? [
          {
            type: 'function_call',
            id: id('fc'),
            call_id: c.toolCall.id,
            name: c.toolCall.name,
            arguments: c.toolCall.arguments,
            status: 'completed',
          },
        ]
      : [
          {
            type: 'message',
            id: id('msg'),
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_text', text: c.content ?? '', annotations: [] }],
          },
        ];
  const incomplete = done && c.finishReason === 'length';
  return {
    id: respId,
    object: 'response',
    created_at: created,
    status: !done ? 'in_progress' : incomplete ? 'incomplete' : 'completed',
    incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
    error: null,
    model: plan.model,
    output,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    ...(done
      ? {
          usage: {
            input_tokens: plan.promptTokens,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: plan.completionTokens,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: plan.promptTokens + plan.completionTokens,
          },
        }
      : {}),
  };
}

export function responseJson(plan: ChatPlan, created: number): string {
  return JSON.stringify(responseObject(plan, id('resp'), created, true));
}

/** Every event of a streamed answer, as one SSE text: created, the item growing, completed. */
export function responseEvents(plan: ChatPlan, created: number): string {
  const c = plan.choices[0]!;
  const respId = id('resp');
  const final = responseObject(plan, respId, created, true);
  const item = final.output[0] as Record<string, unknown> & { id: string };
  let sequence = 0;
  let out = '';
  const emit = (type: string, fields: Record<string, unknown>) => {
    out += `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`;
  };
  emit('response.created', { response: responseObject(plan, respId, created, false) });
  emit('response.in_progress', { response: responseObject(plan, respId, created, false) });
  const at = { item_id: item.id, output_index: 0 };
  if (c.toolCall) {
    emit('response.output_item.added', {
      output_index: 0,
      item: { ...item, arguments: '', status: 'in_progress' },
    });
    for (const delta of c.pieces) emit('response.function_call_arguments.delta', { ...at, delta });
    emit('response.function_call_arguments.done', { ...at, arguments: c.toolCall.arguments });
  } else {
    emit('response.output_item.added', {
      output_index: 0,
      item: { ...item, content: [], status: 'in_progress' },
    });
    const part = { type: 'output_text', text: '', annotations: [] };
    emit('response.content_part.added', { ...at, content_index: 0, part });
    for (const delta of c.pieces) {
      emit('response.output_text.delta', { ...at, content_index: 0, delta, logprobs: [] });
    }
    const text = c.content ?? '';
    emit('response.output_text.done', { ...at, content_index: 0, text, logprobs: [] });
    emit('response.content_part.done', { ...at, content_index: 0, part: { ...part, text } });
  }
  emit('response.output_item.done', { output_index: 0, item });
  emit(final.status === 'incomplete' ? 'response.incomplete' : 'response.completed', {
    response: final,
  });
  return out;
}
