// The upstream client alone, before and after issue 15: the `openai` SDK on the built-in fetch
// (what libs/llm used) against an undici Pool with eventsource-parser (what it uses now), each
// calling the simulator directly from this process. Wall time and this process's CPU per call,
// at 1 and at 50 calls in flight, plain and streamed.
import { createParser } from 'eventsource-parser';
import OpenAI from 'openai';
import { Pool } from 'undici';
import { PROMPT } from './load.mjs';

const CALLS = { 1: 1_500, 50: 6_000 };

/** @param {string} baseUrl the simulator's `/v1` URL; @param {string} model */
export async function benchUpstreamClients(baseUrl, model) {
  const url = new URL(baseUrl);
  const sdk = new OpenAI({ baseURL: baseUrl, apiKey: 'none', maxRetries: 0, timeout: 60_000 });
  const pool = new Pool(url.origin, { connections: 256, keepAliveTimeout: 30_000 });
  const path = `${url.pathname.replace(/\/+$/, '')}/chat/completions`;

  const clients = {
    'openai SDK (fetch)': {
      plain: () => sdk.chat.completions.create({ model, messages: PROMPT }),
      stream: async () => {
        const s = await sdk.chat.completions.create({ model, messages: PROMPT, stream: true });
        let n = 0;
        for await (const _ of s) n++;
        return n;
      },
    },
    'undici Pool + eventsource-parser': {
      plain: async () => {
        const res = await pool.request({
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model, messages: PROMPT }),
        });
        return JSON.parse(await res.body.text());
      },
      stream: async () => {
        const res = await pool.request({
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
          body: JSON.stringify({ model, messages: PROMPT, stream: true }),
        });
        let n = 0;
        const parser = createParser({
          onEvent: (e) => {
            if (e.data !== '[DONE]') {
              JSON.parse(e.data);
              n++;
            }
          },
        });
        const decoder = new TextDecoder();
        for await (const bytes of res.body) parser.feed(decoder.decode(bytes, { stream: true }));
        return n;
      },
    },
  };

  const rows = [];
  for (const stream of [false, true]) {
    for (const concurrency of [1, 50]) {
      for (const [name, client] of Object.entries(clients)) {
        const call = stream ? client.stream : client.plain;
        await run(call, concurrency, 200); // warm-up
        const n = CALLS[concurrency];
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await run(call, concurrency, n);
        const wallMs = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        rows.push({
          client: name,
          stream,
          concurrency,
          callsPerSec: (n * 1000) / wallMs,
          msPerCall: (wallMs * concurrency) / n,
          cpuMsPerCall: (cpu.user + cpu.system) / 1000 / n,
        });
      }
    }
  }
  await pool.close();
  return rows;
}

async function run(call, concurrency, n) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
