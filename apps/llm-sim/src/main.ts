import { loadConfigOrExit } from '@enclave/config';
import { createLlmSim } from './simulator.js';

/** Entry point of the bundled LLM simulator: one JSON log line when listening, clean exit on signals. */

function log(level: number, msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(
    JSON.stringify({ level, time: Date.now(), app: 'llm-sim', msg, ...fields }) + '\n',
  );
}

const config = loadConfigOrExit();
const sim = createLlmSim(config.llmSim);

try {
  const port = await sim.listen(config.ports.llmSim, config.host);
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  log(30, 'listening', {
    url: `http://${host}:${port}/v1`,
    models: config.llmSim.models,
    ttftMs: config.llmSim.ttftMs,
    tokensPerSec: config.llmSim.tokensPerSec,
  });
} catch (err) {
  // The `err` shape pino's serializer writes in the other apps' logs.
  const { name, message, code } = err as NodeJS.ErrnoException;
  log(60, 'cannot listen', { err: { type: name, message, code } });
  process.exit(1);
}

let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  log(30, 'stopping', { signal });
  void sim.close().then(() => process.exit(0));
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
