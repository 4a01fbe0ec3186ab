import { currentLanguage } from '@enclave/web';
import { useId } from 'react';

/**
 * A small time-series line chart drawn as plain SVG: no chart library, so nothing to audit or
 * update, no inline script or eval (the CSP stays strict), and the numbers are exact. A missing
 * value (null) breaks the line rather than drawing a false zero.
 */
export interface Series {
  name: string;
  /** A CSS colour class suffix: `s1`..`s4` (styles.css). */
  tone: 's1' | 's2' | 's3' | 's4';
  values: (number | null)[];
}

const W = 560;
const H = 200;
const PAD = { left: 52, right: 12, top: 12, bottom: 26 };

/** 1, 2, 2.5, 5 or 10 times a power of ten, at or above v: a step people read easily. */
function niceStep(v: number): number {
  const mag = 10 ** Math.floor(Math.log10(v));
  for (const f of [1, 2, 2.5, 5, 10]) if (v <= f * mag) return f * mag;
  return 10 * mag;
}

/** The axis ticks from 0: about four even steps up to the first one at or above the data. */
function axisTicks(max: number, minTop: number, whole: boolean): number[] {
  let step = niceStep(Math.max(max, minTop) / 4);
  if (whole) step = Math.max(1, Math.round(step));
  const top = Math.max(step, Math.ceil(max / step) * step);
  const ticks: number[] = [];
  for (let t = 0; t <= top + step / 2; t += step) ticks.push(t);
  return ticks;
}

export function LineChart(props: {
  title: string;
  /** One label per point (the minute), oldest first. */
  times: Date[];
  series: Series[];
  format(v: number): string;
  /** The chart's summary for screen readers and tests: what the latest numbers are. */
  summary: string;
  /** The axis reaches at least this high (a flat zero line still has a scale). */
  minTop?: number;
  /** Counts: ticks at whole numbers only. */
  whole?: boolean;
}) {
  const titleId = useId();
  const n = props.times.length;
  const all = props.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const ticks = axisTicks(Math.max(0, ...all), props.minTop ?? 1, props.whole ?? false);
  const top = ticks.at(-1)!;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (n <= 1 ? plotW : (i / (n - 1)) * plotW);
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;

  /** The series as path segments, broken where a value is missing. */
  const path = (values: (number | null)[]) => {
    let d = '';
    let pen = false;
    values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    return d;
  };

  const xLabels = props.times
    .map((t, i) => ({ t, i }))
    .filter(
      ({ i }) =>
        n > 0 && (i === 0 || i === n - 1 || i % 15 === 0) && (i === n - 1 || n - 1 - i >= 5),
    );

  return (
    <figure className="chart" aria-labelledby={titleId}>
      <figcaption id={titleId}>{props.title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${props.title}: ${props.summary}`}>
        {ticks.map((t) => (
          <g key={t}>
            <line className="grid" x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
            <text className="axis" x={PAD.left - 6} y={y(t) + 4} textAnchor="end">
              {props.format(t)}
            </text>
          </g>
        ))}
        {xLabels.map(({ t, i }) => (
          <text
            key={i}
            className="axis"
            x={x(i)}
            y={H - 8}
            textAnchor={i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle'}
          >
            {t.toLocaleTimeString(currentLanguage(), { hour: '2-digit', minute: '2-digit' })}
          </text>
        ))}
        {props.series.map((s) => (
          <g key={s.name}>
            <path className={`line ${s.tone}`} d={path(s.values)} data-series={s.name} />
            {/* A value with no neighbour draws no line: a dot shows it. */}
            {s.values.map((v, i) =>
              v !== null &&
              (s.values[i - 1] ?? null) === null &&
              (s.values[i + 1] ?? null) === null ? (
                <circle key={i} className={`dot ${s.tone}`} cx={x(i)} cy={y(v)} r={3} />
              ) : null,
            )}
          </g>
        ))}
        {/* One hover target per minute, with the exact values as a native tooltip. */}
        {props.times.map((t, i) => (
          <rect
            key={i}
            className="hover"
            x={x(i) - plotW / Math.max(1, n - 1) / 2}
            y={PAD.top}
            width={plotW / Math.max(1, n - 1)}
            height={plotH}
          >
            <title>
              {`${t.toLocaleTimeString(currentLanguage(), { hour: '2-digit', minute: '2-digit' })}\n`}
              {props.series
                .map((s) => `${s.name}: ${s.values[i] === null ? '—' : props.format(s.values[i]!)}`)
                .join('\n')}
            </title>
          </rect>
        ))}
      </svg>
      <ul className="legend">
        {props.series.map((s) => (
          <li key={s.name}>
            <span className={`swatch ${s.tone}`} aria-hidden="true" />
            {s.name}
          </li>
        ))}
      </ul>
    </figure>
  );
}
