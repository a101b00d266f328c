// A histogram drawn as plain SVG from the server's bins, with quantile
// marks over it. One bar at a time is in the tab order (roving focus):
// arrow keys move between bins, and hovering or focusing a bin shows its
// range, count and share.
import { useMemo, useRef, useState } from "preact/hooks";
import type { JSX } from "preact";
import { type Histogram, histogramBars, quantileMarks } from "./histogram";

/** The drawing's own coordinates; the SVG stretches them to the card's width. */
const WIDTH = 300;
const HEIGHT = 100;

const KEY_STEPS: Record<string, (index: number, last: number) => number> = {
  ArrowRight: (i, last) => Math.min(last, i + 1),
  ArrowUp: (i, last) => Math.min(last, i + 1),
  ArrowLeft: (i) => Math.max(0, i - 1),
  ArrowDown: (i) => Math.max(0, i - 1),
  Home: () => 0,
  End: (_i, last) => last,
};

export function HistogramChart(props: { histogram: Histogram; name: string }) {
  const { histogram, name } = props;
  const bars = useMemo(() => histogramBars(histogram, WIDTH, HEIGHT), [histogram]);
  const marks = useMemo(() => quantileMarks(histogram, WIDTH), [histogram]);
  const [tabStop, setTabStop] = useState(0);
  const [focused, setFocused] = useState<number | null>(null);
  const [hovered, setHovered] = useState<number | null>(null);
  const hits = useRef<(SVGRectElement | null)[]>([]);
  const shown = hovered ?? focused;
  const active = shown === null ? undefined : bars[shown];

  const onKeyDown = (event: JSX.TargetedKeyboardEvent<SVGGElement>) => {
    const step = KEY_STEPS[event.key];
    if (!step) return;
    event.preventDefault();
    const next = step(focused ?? tabStop, bars.length - 1);
    setTabStop(next);
    hits.current[next]?.focus();
  };

  const left = active ? ((active.x + active.width / 2) / WIDTH) * 100 : 0;
  const edge = left < 20 ? " start" : left > 80 ? " end" : "";

  return (
    <figure class="histogram" data-testid="histogram">
      <div class="histogram-plot">
        <svg
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          preserveAspectRatio="none"
          role="group"
          aria-label={`Histogram of ${name} by ${histogram.axis}, ${bars.length} ${bars.length === 1 ? "bin" : "bins"}`}
          onPointerLeave={() => setHovered(null)}
        >
          <g aria-hidden="true">
            {bars.map((bar) => (
              <rect
                key={bar.index}
                class={bar.index === shown ? "hist-bar active" : "hist-bar"}
                x={bar.x}
                y={bar.y}
                width={bar.width}
                height={bar.height}
              />
            ))}
            {marks.map((mark) => (
              <line key={mark.name} class={`mark ${mark.emphasis}`} x1={mark.x} x2={mark.x} y1={0} y2={HEIGHT} />
            ))}
          </g>
          <g onKeyDown={onKeyDown}>
            {bars.map((bar) => (
              <rect
                key={bar.index}
                ref={(el) => {
                  hits.current[bar.index] = el;
                }}
                class="hit"
                x={bar.index * (WIDTH / bars.length)}
                y={0}
                width={WIDTH / bars.length}
                height={HEIGHT}
                role="img"
                aria-label={bar.description}
                // Lower case: on SVG elements a "tabIndex" attribute means nothing.
                tabindex={bar.index === tabStop ? 0 : -1}
                onFocus={() => {
                  setFocused(bar.index);
                  setTabStop(bar.index);
                }}
                onBlur={() => setFocused(null)}
                onPointerEnter={() => setHovered(bar.index)}
              />
            ))}
          </g>
        </svg>
        {active && (
          <div class={`chart-tooltip${edge}`} style={{ left: `${left}%` }} aria-hidden="true">
            <strong>{active.label}</strong>
            <span>{active.amount}</span>
          </div>
        )}
      </div>
      <div class="histogram-axis" aria-hidden="true">
        <span title={histogram.lowLabel}>{histogram.lowLabel}</span>
        <span title={histogram.highLabel}>{histogram.highLabel}</span>
      </div>
      {marks.length > 0 && (
        <figcaption class="muted">
          Lines mark quantiles: <span class="legend median">median</span>,{" "}
          <span class="legend quartile">p25 and p75</span>, <span class="legend tail">p1, p5, p95, p99</span>.
        </figcaption>
      )}
    </figure>
  );
}
