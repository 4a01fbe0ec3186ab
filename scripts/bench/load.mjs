// One load cell: autocannon holding `connections` requests in flight (closed loop) for a while,
// with each response's latency and time to first body byte recorded at full precision (autocannon's
// own histograms round to whole milliseconds, too coarse for sub-millisecond overheads).
import autocannon from 'autocannon';

export const PROMPT = [
  { role: 'system', content: 'You are a concise assistant for the finance team.' },
  { role: 'user', content: 'Summarise the main risks in the quarterly report in one paragraph.' },
];

export function chatBody(model, stream) {
  return JSON.stringify({ model, messages: PROMPT, ...(stream ? { stream: true } : {}) });
}

/**
 * Runs one cell. `unique`: every request carries its own `seed`, so Enclave treats it as
 * cacheable and misses its response cache (the lookup and the store are measured, a hit never). Returns requests/s (2xx only), latency and TTFT percentiles in ms, and failures.
 * @param {{url: string, headers: Record<string,string>, body: string, connections: number,
 *          durationS: number, timeoutS?: number}} o
 */
export async function runCell(o) {
  const latencies = [];
  const ttfts = [];
  let ok = 0;
  let failed = 0;
  const result = await autocannon({
    url: o.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...o.headers },
    body: o.body,
    ...(o.unique ? { requests: [{ setupRequest: withSeed(o.body) }] } : {}),
    connections: o.connections,
    duration: o.durationS,
    timeout: o.timeoutS ?? 30,
    setupClient(client) {
      client.on('body', () => {
        const pending = client.pipelinedRequests.peek();
        if (pending && !pending.firstByteSeen) {
          pending.firstByteSeen = true;
          const [s, ns] = process.hrtime(pending.startTime);
          ttfts.push(s * 1e3 + ns / 1e6);
        }
      });
      client.on('response', (status, _bytes, durationMs) => {
        if (status >= 200 && status < 300) {
          ok++;
          latencies.push(durationMs);
        } else failed++;
      });
    },
  });
  // autocannon's duration is the elapsed time in seconds; errors include timeouts.
  const seconds = result.duration || o.durationS;
  return {
    rps: ok / seconds,
    ok,
    failed: failed + result.errors,
    latency: percentiles(latencies),
    ttft: percentiles(ttfts),
  };
}

let seed = 0;
function withSeed(body) {
  const head = body.slice(0, -1);
  return (req) => ({ ...req, body: `${head},"seed":${++seed}}` });
}

export function percentiles(values) {
  if (values.length === 0) return { p50: NaN, p99: NaN, n: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p99: at(0.99), n: sorted.length };
}
