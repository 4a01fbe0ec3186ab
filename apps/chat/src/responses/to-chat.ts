import { ApiError } from '@enclave/http';
import type {
  ChatCompletionContentPart,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { ChatCompletionRequest } from '../completions/chat-request.schema.js';
import type { InputItem, ResponsesRequest } from './responses-request.schema.js';

// A Responses API request as the equivalent chat completion, for the backends that serve only
// chat completions (llama.cpp, TGI, most vLLM deployments). What cannot be said in chat
// completions is refused with a 400 naming it, never dropped silently.

/** Tool and tool_choice types of OpenAI's hosted tools: they run at OpenAI, not on a model server. */
function unsupported(code: string, message: string, param: string): ApiError {
  return new ApiError(400, code, message, { param });
}

/** Refuses what Enclave does not serve, naming it: built-in tools, background mode, stored prompts… */
export function refuseUnsupported(body: ResponsesRequest): void {
  const builtIn = [...new Set((body.tools ?? []).map((t) => t.type))].filter(
    (t) => t !== 'function',
  );
  if (builtIn.length) {
    throw unsupported(
      'unsupported_tool',
      `Enclave serves function tools only; these built-in tools are not available: ${builtIn.join(', ')}. Remove them or define a function tool your code runs.`,
      'tools',
    );
  }
  const choice = body.tool_choice;
  if (typeof choice === 'object' && choice.type !== 'function') {
    throw unsupported(
      'unsupported_tool',
      `tool_choice of type '${choice.type}' is not available: Enclave serves function tools only.`,
      'tool_choice',
    );
  }
  if (typeof choice === 'object' && !choice.name) {
    throw unsupported(
      'invalid_tool_choice',
      'tool_choice of type function needs a name.',
      'tool_choice',
    );
  }
  if (body.background) {
    throw unsupported(
      'unsupported_parameter',
      'Background responses are not available: send the request without background (stream it for long answers).',
      'background',
    );
  }
  if (body.conversation != null) {
    throw unsupported(
      'unsupported_parameter',
      'The Conversations API is not available: chain responses with previous_response_id instead.',
      'conversation',
    );
  }
  if (body.prompt != null) {
    throw unsupported(
      'unsupported_parameter',
      'Stored prompt templates are not available: send the prompt as input and instructions.',
      'prompt',
    );
  }
}

/** The request's input as items (a string is one user message). */
export function inputItems(body: ResponsesRequest): InputItem[] {
  if (body.input === undefined) return [];
  if (typeof body.input === 'string') {
    return [{ type: 'message', role: 'user', content: body.input }];
  }
  return body.input;
}

/** The chat completion request saying what the Responses request says. */
export function toChatRequest(
  body: ResponsesRequest,
  items: InputItem[],
  stream: boolean,
): ChatCompletionRequest {
  const messages: ChatCompletionMessageParam[] = [];
  if (body.instructions) messages.push({ role: 'system', content: body.instructions });
  items.forEach((item, i) => addItem(messages, item, `input[${i}]`));
  if (messages.length === 0) {
    throw new ApiError(400, 'invalid_input', 'input must hold at least one message.', {
      param: 'input',
    });
  }
  const tools = (body.tools ?? []).map((t, i) => {
    if (!t.name) {
      throw new ApiError(400, 'invalid_tool', `tools[${i}] needs a name.`, {
        param: `tools[${i}].name`,
      });
    }
    return {
      type: 'function' as const,
      function: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        ...(t.parameters ? { parameters: t.parameters } : {}),
        ...(t.strict != null ? { strict: t.strict } : {}),
      },
    };
  });
  const choice = body.tool_choice;
  const format = body.text?.format;
  const request: ChatCompletionRequest = {
    model: body.model,
    messages: messages as ChatCompletionRequest['messages'],
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
    ...(body.max_output_tokens != null ? { max_tokens: body.max_output_tokens } : {}),
    ...(body.temperature != null ? { temperature: body.temperature } : {}),
    ...(body.top_p != null ? { top_p: body.top_p } : {}),
    ...(tools.length ? { tools } : {}),
    ...(choice !== undefined && tools.length
      ? {
          tool_choice:
            typeof choice === 'string'
              ? choice
              : { type: 'function' as const, function: { name: choice.name! } },
        }
      : {}),
    ...(body.parallel_tool_calls != null && tools.length
      ? { parallel_tool_calls: body.parallel_tool_calls }
      : {}),
    ...(format?.type === 'json_schema'
      ? {
          response_format: {
            type: 'json_schema' as const,
            json_schema: {
              name: format.name,
              schema: format.schema,
              ...(format.description ? { description: format.description } : {}),
              ...(format.strict != null ? { strict: format.strict } : {}),
            },
          },
        }
      : format?.type === 'json_object'
        ? { response_format: { type: 'json_object' as const } }
        : {}),
    ...(body.user ? { user: body.user } : {}),
  };
  return request;
}

function addItem(messages: ChatCompletionMessageParam[], item: InputItem, param: string): void {
  const type = item.type ?? 'message';
  switch (type) {
    case 'message': {
      if (!item.role) {
        throw new ApiError(400, 'invalid_input', `${param} is a message without a role.`, {
          param,
        });
      }
      const content = item.content ?? '';
      if (item.role === 'assistant') {
        messages.push({ role: 'assistant', content: plainText(content, param) });
      } else if (item.role === 'user') {
        messages.push({ role: 'user', content: userContent(content, param) });
      } else {
        messages.push({ role: item.role, content: plainText(content, param) });
      }
      return;
    }
    case 'function_call': {
      if (!item.call_id || !item.name) {
        throw new ApiError(
          400,
          'invalid_input',
          `${param} (a function_call) needs call_id and name.`,
          {
            param,
          },
        );
      }
      const call: ChatCompletionMessageFunctionToolCall = {
        id: item.call_id,
        type: 'function',
        function: { name: item.name, arguments: item.arguments ?? '' },
      };
      // What the model said and the calls it made with it (parallel tool calls too) are one
      // assistant message in chat completions: chat templates that require turns to alternate
      // refuse two assistant messages in a row.
      const last = messages[messages.length - 1];
      if (last?.role === 'assistant') (last.tool_calls ??= []).push(call);
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
      return;
    }
    case 'function_call_output': {
      if (!item.call_id) {
        throw new ApiError(
          400,
          'invalid_input',
          `${param} (a function_call_output) needs call_id.`,
          {
            param,
          },
        );
      }
      messages.push({
        role: 'tool',
        tool_call_id: item.call_id,
        content: plainText(item.output ?? '', param),
      });
      return;
    }
    case 'reasoning':
      // A reasoning model's summary of its thinking: context for OpenAI's models only.
      return;
    default:
      throw new ApiError(
        400,
        'unsupported_input_item',
        `${param} has type '${type}', which Enclave cannot pass to its model servers; it accepts messages, function_call, function_call_output and item_reference items.`,
        { param },
      );
  }
}

type Parts = Exclude<InputItem['content'], string | undefined>;

/** Text parts joined; anything else in a place only text can go is refused by name. */
function plainText(content: string | Parts, param: string): string {
  if (typeof content === 'string') return content;
  return content
    .map((part, i) => {
      const t = part as { type: string; text?: unknown; refusal?: unknown };
      if (
        (t.type === 'input_text' || t.type === 'output_text' || t.type === 'text') &&
        typeof t.text === 'string'
      ) {
        return t.text;
      }
      if (t.type === 'refusal' && typeof t.refusal === 'string') return t.refusal;
      throw unsupportedPart(t.type, `${param}.content[${i}]`);
    })
    .join('');
}

/** A user message's content: text, and images as chat completions' image parts. */
function userContent(content: string | Parts, param: string): string | ChatCompletionContentPart[] {
  if (typeof content === 'string') return content;
  return content.map((part, i): ChatCompletionContentPart => {
    const p = part as { type: string; text?: unknown; image_url?: unknown; detail?: unknown };
    if ((p.type === 'input_text' || p.type === 'text') && typeof p.text === 'string') {
      return { type: 'text', text: p.text };
    }
    if (p.type === 'input_image' && typeof p.image_url === 'string') {
      const detail = p.detail === 'low' || p.detail === 'high' ? p.detail : 'auto';
      return { type: 'image_url', image_url: { url: p.image_url, detail } };
    }
    throw unsupportedPart(p.type, `${param}.content[${i}]`);
  });
}

function unsupportedPart(type: string, param: string): ApiError {
  return new ApiError(
    400,
    'unsupported_content',
    `${param} has type '${type}', which Enclave cannot pass to its model servers: send text (input_text) or images given by URL (input_image with image_url).`,
    { param },
  );
}
