// A strict reader of the Prometheus text exposition format (version 0.0.4), as a scraper would
// read it: every line must be a HELP, a TYPE or a sample of a declared family, label values must
// be properly escaped, histogram buckets cumulative and ending with +Inf equal to _count.
// prom-client ships no parser, so this is the check that /metrics is what Prometheus accepts.

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const VALUE = String.raw`"(?:[^"\\\n]|\\[\\"n])*"`;
// Prometheus reads values with Go's ParseFloat: NaN and Inf in any letter case (prom-client
// writes `Nan`).
const NUMBER = String.raw`[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?[iI][nN][fF]|[nN][aA][nN]`;
const HELP_LINE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(
  `^(${NAME})(?:\\{((?:${LABEL}=${VALUE})(?:,${LABEL}=${VALUE})*,?)?\\})? (${NUMBER})(?: -?\\d+)?$`,
);
const LABEL_PAIR = new RegExp(`(${LABEL})=(${VALUE})`, 'g');

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  /** The value of the one sample with this name whose labels include `labels`; 0 when none. */
  value(name: string, labels?: Record<string, string>): number;
  /** Sum over the samples with this name whose labels include `labels`. */
  sum(name: string, labels?: Record<string, string>): number;
}

function parseNumber(s: string): number {
  const lower = s.toLowerCase();
  if (lower.endsWith('inf')) return lower.startsWith('-') ? -Infinity : Infinity;
  return lower === 'nan' ? NaN : Number(s);
}

function unescape(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const type = types.get(base);
      if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
    }
  }
  return undefined;
}

/** Parses the text or throws naming the first line that a scraper would reject. */
export function parsePrometheusText(text: string): Exposition {
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const samples: Sample[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the exposition must end with a newline');
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === '') return;
    let m: RegExpExecArray | null;
    if ((m = HELP_LINE.exec(line))) {
      if (helped.has(m[1]!)) throw new Error(`${where}: second HELP for ${m[1]}`);
      helped.add(m[1]!);
    } else if ((m = TYPE_LINE.exec(line))) {
      if (types.has(m[1]!)) throw new Error(`${where}: second TYPE for ${m[1]}`);
      types.set(m[1]!, m[2]!);
    } else if (line.startsWith('#')) {
      // A plain comment.
    } else if ((m = SAMPLE_LINE.exec(line))) {
      const name = m[1]!;
      if (!familyOf(name, types)) throw new Error(`${where}: sample before its TYPE`);
      const labels: Record<string, string> = {};
      for (const [, key, value] of (m[2] ?? '').matchAll(LABEL_PAIR)) {
        if (key! in labels) throw new Error(`${where}: label ${key} twice`);
        labels[key!] = unescape(value!);
      }
      samples.push({ name, labels, value: parseNumber(m[3]!) });
    } else {
      throw new Error(`${where}: not a HELP, TYPE or sample line`);
    }
  });
  checkHistograms(types, samples);

  const matching = (name: string, want: Record<string, string>) =>
    samples.filter(
      (s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v),
    );
  return {
    types,
    samples,
    value(name, labels = {}) {
      const found = matching(name, labels);
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} match`);
      return found[0]?.value ?? 0;
    },
    sum(name, labels = {}) {
      return matching(name, labels).reduce((total, s) => total + s.value, 0);
    },
  };
}

/** Per series: buckets never decrease, the last is le="+Inf", and it equals _count. */
function checkHistograms(types: Map<string, string>, samples: Sample[]): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, { buckets: Sample[]; count?: number }>();
    const keyOf = (labels: Record<string, string>) =>
      JSON.stringify(
        Object.entries(labels)
          .filter(([k]) => k !== 'le')
          .sort(),
      );
    for (const s of samples) {
      if (s.name !== `${family}_bucket` && s.name !== `${family}_count`) continue;
      const entry = series.get(keyOf(s.labels)) ?? { buckets: [] };
      series.set(keyOf(s.labels), entry);
      if (s.name.endsWith('_count')) entry.count = s.value;
      else entry.buckets.push(s);
    }
    for (const [key, { buckets, count }] of series) {
      const last = buckets.at(-1);
      if (!last || last.labels.le !== '+Inf') throw new Error(`${family}${key}: no +Inf bucket`);
      if (last.value !== count) throw new Error(`${family}${key}: +Inf bucket is not _count`);
      buckets.reduce((prev, b) => {
        if (b.value < prev)
          throw new Error(`${family}${key}: buckets decrease at le=${b.labels.le}`);
        return b.value;
      }, 0);
    }
  }
}
