import { ApiError } from '@enclave/http';
import { ResponsesRequest } from './responses-request.schema.js';
import { inputItems, refuseUnsupported, toChatRequest } from './to-chat.js';

// The Responses API request as the chat completion a chat-only backend gets.

const parse = (body: unknown) => ResponsesRequest.parse(body);
const chatOf = (body: unknown, stream = false) => {
  const request = parse(body);
  return toChatRequest(request, inputItems(request), stream);
};

function refusal(run: () => unknown): ApiError {
  try {
    run();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('a Responses request as a chat completion', () => {
  it('puts instructions first as the system message and a string input as the user message', () => {
    expect(chatOf({ model: 'm', instructions: 'Be terse.', input: 'Hi' }).messages).toEqual([
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'Hi' },
    ]);
  });

  it('translates message items, images, function calls (grouped) and their outputs', () => {
    const chat = chatOf({
      model: 'm',
      input: [
        { role: 'developer', content: 'Use tools.' },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is in this picture, and the weather?' },
            { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' },
          ],
        },
        { role: 'assistant', content: [{ type: 'output_text', text: 'Let me check.' }] },
        { type: 'function_call', call_id: 'c1', name: 'weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call', call_id: 'c2', name: 'weather', arguments: '{"city":"Rome"}' },
        { type: 'function_call_output', call_id: 'c1', output: '3 C' },
        {
          type: 'function_call_output',
          call_id: 'c2',
          output: [{ type: 'input_text', text: '25 C' }],
        },
        { type: 'reasoning', id: 'rs_1', summary: [] },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'developer', content: 'Use tools.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this picture, and the weather?' },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [
          {
            id: 'c1',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Oslo"}' },
          },
          {
            id: 'c2',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Rome"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: '3 C' },
      { role: 'tool', tool_call_id: 'c2', content: '25 C' },
    ]);
  });

  it('maps tools, tool_choice, text.format, max_output_tokens and sampling; asks for usage when streamed', () => {
    const chat = chatOf(
      {
        model: 'm',
        input: 'Hi',
        tools: [{ type: 'function', name: 'f', parameters: { type: 'object' }, strict: true }],
        tool_choice: { type: 'function', name: 'f' },
        parallel_tool_calls: false,
        text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' } } },
        max_output_tokens: 50,
        temperature: 0.2,
        top_p: 0.9,
        metadata: { a: 'b' },
      },
      true,
    );
    expect(chat).toMatchObject({
      model: 'm',
      stream: true,
      stream_options: { include_usage: true },
      tools: [
        { type: 'function', function: { name: 'f', parameters: { type: 'object' }, strict: true } },
      ],
      tool_choice: { type: 'function', function: { name: 'f' } },
      parallel_tool_calls: false,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'out', schema: { type: 'object' } },
      },
      max_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
    });
    // Metadata is the client's label for the response, echoed back, never sent upstream.
    expect(chat).not.toHaveProperty('metadata');
  });

  it('refuses built-in tools by name, and other features it cannot serve', () => {
    const tools = refusal(() =>
      refuseUnsupported(
        parse({
          model: 'm',
          input: 'x',
          tools: [{ type: 'web_search' }, { type: 'code_interpreter', container: 'auto' }],
        }),
      ),
    );
    expect(tools).toMatchObject({ code: 'unsupported_tool', param: 'tools' });
    expect(tools.message).toContain('web_search, code_interpreter');
    expect(
      refusal(() =>
        refuseUnsupported(parse({ model: 'm', input: 'x', tool_choice: { type: 'file_search' } })),
      ),
    ).toMatchObject({ code: 'unsupported_tool', param: 'tool_choice' });
    expect(
      refusal(() => refuseUnsupported(parse({ model: 'm', input: 'x', background: true }))),
    ).toMatchObject({ code: 'unsupported_parameter', param: 'background' });
  });

  it('refuses input it cannot pass on, naming where it is', () => {
    expect(
      refusal(() =>
        chatOf({
          model: 'm',
          input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }] }],
        }),
      ),
    ).toMatchObject({ code: 'unsupported_content', param: 'input[0].content[0]' });
    expect(
      refusal(() =>
        chatOf({ model: 'm', input: [{ type: 'computer_call_output', call_id: 'c' }] }),
      ),
    ).toMatchObject({ code: 'unsupported_input_item', param: 'input[0]' });
    expect(refusal(() => chatOf({ model: 'm', input: [] }))).toMatchObject({
      code: 'invalid_input',
    });
  });
});
