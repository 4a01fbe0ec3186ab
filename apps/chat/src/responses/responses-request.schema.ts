import { z } from 'zod';
import { line, queryInt, text } from '@enclave/http';

// OpenAI's Responses API request (`POST /v1/responses`). The top level is strict, as OpenAI's own
// API is; input items and tools pass unknown fields through, and what Enclave cannot serve
// (built-in tools, file inputs, other item types) is refused by name in `refuseUnsupported`
// rather than here, so the 400 carries a stable code that says which feature it was.

const MAX_TOKENS = 10_000_000;
const number = (min: number, max: number) => z.number().min(min).max(max).nullable().optional();

/** An input item: a message (with or without `type: "message"`), a function call or its output… */
const inputItem = z.looseObject({
  type: z.string().min(1).max(64).optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']).optional(),
  content: z.union([text(), z.array(z.looseObject({ type: z.string().min(1) }))]).optional(),
  id: z.string().max(256).optional(),
  call_id: z.string().max(256).optional(),
  name: z.string().max(256).optional(),
  arguments: z.string().optional(),
  output: z.union([z.string(), z.array(z.looseObject({ type: z.string().min(1) }))]).optional(),
});
export type InputItem = z.infer<typeof inputItem>;

/** Any tool; only `type: "function"` is served (the others are refused by name). */
const tool = z.looseObject({
  type: z.string().min(1).max(64),
  name: z.string().max(64).optional(),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});
export type ResponsesTool = z.infer<typeof tool>;

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.string().min(1).max(64), name: z.string().max(64).optional() }),
]);

const textFormat = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({
    type: z.literal('json_schema'),
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);

export const ResponsesRequest = z.strictObject({
  model: line().min(1).max(256),
  input: z.union([text(), z.array(inputItem)]).optional(),
  instructions: text().nullable().optional(),
  previous_response_id: line().max(256).nullable().optional(),
  store: z.boolean().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({}).nullable().optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  max_tool_calls: z.number().int().min(1).nullable().optional(),
  text: z.looseObject({ format: textFormat.optional() }).optional(),
  max_output_tokens: z.number().int().min(1).max(MAX_TOKENS).nullable().optional(),
  temperature: number(0, 2),
  top_p: number(0, 1),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  metadata: z.record(z.string().max(64), z.string().max(512)).nullable().optional(),
  user: line().max(256).optional(),
  safety_identifier: line().max(256).nullable().optional(),
  prompt_cache_key: line().max(256).nullable().optional(),
  prompt_cache_retention: z.string().max(32).nullable().optional(),
  service_tier: line().max(64).nullable().optional(),
  truncation: z.enum(['auto', 'disabled']).nullable().optional(),
  include: z.array(z.string().max(128)).nullable().optional(),
  reasoning: z.looseObject({}).nullable().optional(),
  // Accepted so the refusal names them (OpenAI features Enclave does not serve).
  background: z.boolean().nullable().optional(),
  conversation: z.unknown().optional(),
  prompt: z.unknown().optional(),
});

export type ResponsesRequest = z.infer<typeof ResponsesRequest>;

const includable = z.union([line().max(200), z.array(line().max(200)).max(20)]);

/**
 * `GET /v1/responses/{id}/input_items`: OpenAI's cursor page (`after` an item id, `limit` 1–100,
 * `order`, newest first by default). `include` asks for extra fields of image and file inputs,
 * which Enclave does not serve; it is accepted and adds nothing.
 */
export const InputItemsQuery = z.strictObject({
  after: line().max(300).optional(),
  limit: queryInt(1, 100).optional(),
  order: z.enum(['asc', 'desc']).optional(),
  include: includable.optional(),
  'include[]': includable.optional(),
});
export type InputItemsQuery = z.infer<typeof InputItemsQuery>;
