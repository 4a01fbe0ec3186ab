import { readFileSync } from 'node:fs';
import { KEYS } from '@enclave/config';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it.each(Object.entries(KEYS))('documents %s with its default', (key, spec) => {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${key}\``));
    expect(row).toBeDefined();
    expect(row).toContain(spec.default === undefined ? '(unset)' : `\`${spec.default}\``);
  });

  it('gives the two Quick start commands that CI runs', () => {
    expect(readme).toMatch(/^npm start +#/m);
    expect(readme).toMatch(/^npm test +#/m);
    expect(readFileSync(new URL('../.ci/run', import.meta.url), 'utf8')).toMatch(/^npm test\b/m);
  });
});
