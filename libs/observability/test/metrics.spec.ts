import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoopback, Metrics } from '@enclave/observability';
import { RecordSpool } from '../../../apps/chat/src/completions/record-spool.js';
import { parsePrometheusText } from '../../../test/support/prometheus.js';

describe('Metrics', () => {
  it('renders valid Prometheus text with the app label and the default process metrics', async () => {
    const metrics = new Metrics('chat');
    const text = await metrics.render();
    const parsed = parsePrometheusText(text);
    expect(parsed.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(parsed.types.get('process_resident_memory_bytes')).toBe('gauge');
    expect(parsed.value('process_resident_memory_bytes', { app: 'chat' })).toBeGreaterThan(0);
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('counts what the typed calls record, under their label values', async () => {
    const metrics = new Metrics('chat');
    metrics.request('POST', '/v1/chat/completions', 200, 0.003);
    metrics.recordUpstream('gpu1', 'llama', 0.2, 1.5, 'completed');
    metrics.recordUpstream('gpu1', 'llama', null, 0.1, 'upstream_error');
    metrics.tokens('llama', 20, 7);
    metrics.tokens('llama', 5, null);
    metrics.cache(true);
    metrics.cache(false);
    metrics.cache(false);
    metrics.rejected('rate_limit');
    metrics.rejected('quota');
    metrics.rejected('quota');
    metrics.backendHealth('gpu1', true);
    metrics.backendHealth('gpu2', false);

    const m = parsePrometheusText(await metrics.render());
    const route = { route: '/v1/chat/completions', method: 'POST', status: '200' };
    expect(m.value('enclave_http_request_duration_seconds_count', route)).toBe(1);
    expect(
      m.value('enclave_http_request_duration_seconds_bucket', { ...route, le: '0.0025' }),
    ).toBe(0);
    expect(m.value('enclave_http_request_duration_seconds_bucket', { ...route, le: '0.005' })).toBe(
      1,
    );
    expect(m.value('enclave_upstream_duration_seconds_count', { outcome: 'completed' })).toBe(1);
    expect(m.value('enclave_upstream_duration_seconds_count', { outcome: 'upstream_error' })).toBe(
      1,
    );
    // No token arrived on the failed call: no TTFT observation for it.
    expect(m.value('enclave_upstream_ttft_seconds_count', { backend: 'gpu1' })).toBe(1);
    expect(m.value('enclave_upstream_ttft_seconds_sum', { backend: 'gpu1' })).toBeCloseTo(0.2);
    expect(m.value('enclave_tokens_total', { model: 'llama', type: 'prompt' })).toBe(25);
    expect(m.value('enclave_tokens_total', { model: 'llama', type: 'completion' })).toBe(7);
    expect(m.value('enclave_cache_lookups_total', { result: 'hit' })).toBe(1);
    expect(m.value('enclave_cache_lookups_total', { result: 'miss' })).toBe(2);
    expect(m.value('enclave_rejections_total', { kind: 'rate_limit' })).toBe(1);
    expect(m.value('enclave_rejections_total', { kind: 'quota' })).toBe(2);
    expect(m.value('enclave_backend_healthy', { backend: 'gpu1' })).toBe(1);
    expect(m.value('enclave_backend_healthy', { backend: 'gpu2' })).toBe(0);

    metrics.forgetBackend('gpu2');
    const after = parsePrometheusText(await metrics.render());
    expect(
      after.samples.filter(
        (s) => s.labels.backend === 'gpu2' && s.name === 'enclave_backend_healthy',
      ),
    ).toEqual([]);
  });

  it('keeps apps in one process apart (one registry each)', async () => {
    const a = new Metrics('chat');
    const b = new Metrics('admin');
    a.cache(true);
    expect(parsePrometheusText(await a.render()).value('enclave_cache_lookups_total')).toBe(1);
    expect(parsePrometheusText(await b.render()).value('enclave_cache_lookups_total')).toBe(0);
  });
});

describe('the Grafana dashboard (deploy/grafana/enclave.json)', () => {
  it('queries only metrics that Enclave exposes', async () => {
    const dashboard = readFileSync(
      new URL('../../../deploy/grafana/enclave.json', import.meta.url),
      'utf8',
    );
    const exprs = [...dashboard.matchAll(/"expr": "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
    expect(exprs.length).toBeGreaterThan(10);
    const used = new Set(
      exprs.flatMap((e) =>
        [...e.matchAll(/\b((?:enclave|nodejs|process)_[a-z0-9_]+)/g)].map((m) =>
          m[1]!.replace(/_(bucket|count|sum)$/, ''),
        ),
      ),
    );
    // What the chat app exposes (its spool included) and what the audit app adds once it seals
    // and forwards.
    const chat = new Metrics('chat');
    const dir = mkdtempSync(join(tmpdir(), 'enclave-metrics-'));
    new RecordSpool(join(dir, 'spool.jsonl'), 1024, chat.registry);
    const audit = new Metrics('audit');
    audit.watchAuditSealer({ lagSeconds: async () => 0, lastRoundAt: () => Date.now() });
    audit.auditQueue(0, null);
    audit.siemEventsForwarded(0);
    audit.siemLagPositions(0);
    audit.siemConnection(true);
    const exposed = new Set([
      ...parsePrometheusText(await chat.render()).types.keys(),
      ...parsePrometheusText(await audit.render()).types.keys(),
    ]);
    rmSync(dir, { recursive: true, force: true });
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['203.0.113.7', false],
    ['fe80::1', false],
    ['1270.0.0.1', false],
    [undefined, false],
  ])('%s -> %s', (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });
});

describe('parsePrometheusText', () => {
  it.each([
    ['a sample without a TYPE', 'foo 1\n'],
    ['an unescaped quote in a label value', '# TYPE foo gauge\nfoo{a="x"y"} 1\n'],
    ['a value that is not a number', '# TYPE foo gauge\nfoo one\n'],
    ['a missing final newline', '# TYPE foo gauge\nfoo 1'],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
