import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Every file a process's entry point reaches through its imports, resolved as tsc resolves them
 * (tsconfig.json's paths, node_modules typings), as paths relative to the repository.
 */
function importGraph(entry: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  )!;
  // No ambient `types`: only what the entry's imports reach.
  const program = ts.createProgram([join(root, entry)], { ...config.options, types: [] });
  return program.getSourceFiles().map((f) => relative(root, f.fileName));
}

/** What only the audit app and the CLI need: the chain's export, verify and SIEM code and its COPY and CSV readers. */
const AUDIT_ONLY = [
  /^libs\/audit-chain\//,
  /node_modules\/(@types\/)?csv-parse\//,
  /pg-copy-streams/,
];

const reached = (files: string[]) => files.filter((f) => AUDIT_ONLY.some((p) => p.test(f)));

describe('the import graph', () => {
  it('of the chat app reaches no audit chain code, csv-parse or pg-copy-streams', () => {
    const files = importGraph('apps/chat/src/main.ts');
    expect(files).toContain('libs/audit/src/audit-log.ts');
    expect(reached(files)).toEqual([]);
  });

  it('of the audit app reaches them (the check above sees what it looks for)', () => {
    const found = reached(importGraph('apps/audit/src/main.ts'));
    expect(found).toEqual(
      expect.arrayContaining([
        'libs/audit-chain/src/verify/verify-database.ts',
        'libs/audit-chain/src/siem/siem-forwarder.ts',
        expect.stringMatching(/node_modules\/csv-parse\//),
      ]),
    );
  });
});
