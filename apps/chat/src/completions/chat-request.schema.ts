import { z } from 'zod';
import { line, text } from '@enclave/http';

// OpenAI's chat and legacy text completion requests. The fields OpenAI defines are validated; any
// other field passes through to the upstream unchanged (vLLM's `top_k`, `min_p`,
// `repetition_penalty`, `chat_template_kwargs`, `guided_json`, llama.cpp's and TGI's parameters,
// OpenAI fields newer than this list), as LiteLLM and vLLM's own server do. What bounds them is
// the body's size, depth and value-count limits, checked before parsing (libs/http json-body.ts).

const contentPart = z.looseObject({ type: z.string().min(1) });
const content = z.union([text(), z.array(contentPart), z.null()]);

const toolCall = z.looseObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

const message = z.discriminatedUnion('role', [
  z.looseObject({ role: z.literal('system'), content, name: z.string().optional() }),
  z.looseObject({ role: z.literal('developer'), content, name: z.string().optional() }),
  z.looseObject({ role: z.literal('user'), content, name: z.string().optional() }),
  z.looseObject({
    role: z.literal('assistant'),
    content: content.optional(),
    tool_calls: z.array(toolCall).optional(),
    name: z.string().optional(),
  }),
  z.looseObject({ role: z.literal('tool'), content, tool_call_id: z.string() }),
]);

const functionTool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

/**
 * A tool: `function` tools are validated; kinds newer than this list (OpenAI's `custom`, …) pass
 * through for the model server to judge.
 */
const tool = z.looseObject({ type: line().min(1).max(64) }).superRefine((t, ctx) => {
  if (t.type !== 'function') return;
  const checked = functionTool.safeParse(t);
  for (const issue of checked.error?.issues ?? []) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  }
});

const number = (min: number, max: number) => z.number().min(min).max(max).nullable().optional();
/** No model writes more tokens than this in one answer; bigger is a typo, not a request. */
const MAX_TOKENS = 10_000_000;
const tokenId = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);
/** OpenAI's own limit on `n`, the choices in one answer. */
export const MAX_CHOICES = 128;

/** What chat and text completions share: the model, streaming and the sampling parameters. */
const common = {
  model: line().min(1).max(256),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: z.number().int().min(1).max(MAX_TOKENS).nullable().optional(),
  temperature: number(0, 2),
  top_p: number(0, 1),
  n: z.number().int().min(1).max(MAX_CHOICES).nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4)])
    .nullable()
    .optional(),
  seed: z
    .number()
    .int()
    .min(Number.MIN_SAFE_INTEGER)
    .max(Number.MAX_SAFE_INTEGER)
    .nullable()
    .optional(),
  presence_penalty: number(-2, 2),
  frequency_penalty: number(-2, 2),
  logit_bias: z.record(z.string().max(20), z.number().min(-100).max(100)).nullable().optional(),
  user: line().max(256).optional(),
};

export const ChatCompletionRequest = z.looseObject({
  ...common,
  messages: z.array(message).min(1, 'messages must contain at least one message'),
  max_completion_tokens: z.number().int().min(1).max(MAX_TOKENS).nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  tools: z.array(tool).optional(),
  tool_choice: z
    .union([
      z.enum(['none', 'auto', 'required']),
      z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
      // Newer choices (`allowed_tools`, `custom`) pass through, as newer tools do.
      z.looseObject({
        type: line()
          .min(1)
          .max(64)
          .refine((t) => t !== 'function'),
      }),
    ])
    .optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: z
    .discriminatedUnion('type', [
      z.strictObject({ type: z.literal('text') }),
      z.strictObject({ type: z.literal('json_object') }),
      z.strictObject({
        type: z.literal('json_schema'),
        json_schema: z.record(z.string(), z.unknown()),
      }),
    ])
    .optional(),
  // OpenAI's values are strings; LiteLLM's clients send tags and trace ids as arrays and objects.
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  store: z.boolean().nullable().optional(),
  reasoning_effort: z
    .enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh'])
    .nullable()
    .optional(),
  service_tier: line().max(64).nullable().optional(),
});

export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/** POST /v1/completions, the legacy text completion: a prompt instead of messages. */
export const TextCompletionRequest = z.looseObject({
  ...common,
  prompt: z.union([
    text(),
    z.array(text()).min(1).max(2048),
    z.array(tokenId).min(1),
    z.array(z.array(tokenId).min(1)).min(1).max(2048),
  ]),
  suffix: text().nullable().optional(),
  echo: z.boolean().nullable().optional(),
  logprobs: z.number().int().min(0).max(5).nullable().optional(),
  best_of: z.number().int().min(1).max(MAX_CHOICES).nullable().optional(),
});

export type TextCompletionRequest = z.infer<typeof TextCompletionRequest>;

export const EmbeddingsRequest = z.strictObject({
  model: line().min(1).max(256),
  input: z.union([
    text(),
    z.array(text()).min(1).max(2048),
    z.array(tokenId).min(1),
    z.array(z.array(tokenId)).min(1).max(2048),
  ]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(1).max(8192).optional(),
  user: line().max(256).optional(),
});

export type EmbeddingsRequest = z.infer<typeof EmbeddingsRequest>;
