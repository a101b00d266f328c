// One column's card. Cheap to render: the numbers are text, and the charts
// (the only heavy part) wait until the card comes near the viewport.
import { useMemo, useRef } from "preact/hooks";
import type { ComponentChildren } from "preact";
import type { AttentionItem } from "./attention";
import { columnAnchor, columnLabel, describeFit, formatDistinct, TYPE_NAMES, uniqueness } from "./column";
import { displayValue, formatCount, formatNumber, formatShare, formatTemporal, shareOf } from "../format";
import { columnHistogram, QUANTILE_NAMES } from "./histogram";
import { HistogramChart } from "./Histogram";
import type { ColumnProfile } from "./query";
import { topValues } from "./topValues";
import { BooleanBar, TopValuesChart } from "./TopValues";
import { useSeen } from "./visible";

export interface ColumnCardProps {
  column: ColumnProfile;
  index: number;
  attention: AttentionItem[];
  /** Relative standard error of estimated distinct counts, for the "≈" hint. */
  distinctError: number;
  onCopy(index: number): void;
}

function Stat(props: { label: string; children: ComponentChildren; title?: string }) {
  return (
    <div class="stat">
      <dt>{props.label}</dt>
      <dd title={props.title}>{props.children}</dd>
    </div>
  );
}

function countWithShare(count: number, whole: number) {
  return (
    <>
      {formatCount(count)} <span class="muted">({formatShare(shareOf(count, whole))})</span>
    </>
  );
}

export function ColumnCard(props: ColumnCardProps) {
  const { column, index, attention, distinctError, onCopy } = props;
  const ref = useRef<HTMLElement>(null);
  const seen = useSeen(ref);
  const name = columnLabel(column.name, index);
  const anchor = columnAnchor(index);
  const histogram = useMemo(() => columnHistogram(column), [column]);
  const top = useMemo(() => (column.topValues.length > 0 ? topValues(column) : null), [column]);
  const { numeric, temporal, lengths } = column;
  const quantiles = numeric?.quantiles ?? temporal?.quantiles;
  const showQuantile = (value: number | string) =>
    typeof value === "number" ? formatNumber(value) : formatTemporal(value);
  const warn = attention.some((a) => a.severity !== "info");
  // The fit line already says what the junk item would.
  const notes = attention.filter((a) => a.kind !== "junk");

  return (
    <article
      class={warn ? "column-card panel attention" : "column-card panel"}
      id={anchor}
      tabIndex={-1}
      aria-labelledby={`${anchor}-name`}
      data-testid="column-card"
      ref={ref}
    >
      <header class="card-head">
        <h3 id={`${anchor}-name`} title={name}>
          {name}
        </h3>
        <span class="muted position">#{index + 1}</span>
        <span class={column.inferredType === "EMPTY" ? "badge warn" : "badge info"}>
          {TYPE_NAMES[column.inferredType]}
        </span>
        <button type="button" class="small copy" onClick={() => onCopy(index)} aria-label={`Copy JSON of ${name}`}>
          Copy JSON
        </button>
      </header>
      <p class={column.typeShare < 1 && column.inferredType !== "EMPTY" ? "fit warn-text" : "fit"}>
        {describeFit(column)}
      </p>
      {notes.length > 0 && (
        <ul class="card-attention">
          {notes.map((a) => (
            <li key={a.kind} class={`badge ${a.severity}`}>
              {a.message}
            </li>
          ))}
        </ul>
      )}
      <dl class="stats">
        <Stat label="Nulls">{countWithShare(column.nullCount, column.count)}</Stat>
        {column.emptyCount > 0 && <Stat label="Empty strings">{countWithShare(column.emptyCount, column.count)}</Stat>}
        <Stat
          label="Distinct"
          title={column.distinctExact ? undefined : `Estimated: relative standard error ${formatShare(distinctError)}`}
        >
          {formatDistinct(column)}
          {column.nonNullCount > 0 && <span class="muted"> ({formatShare(uniqueness(column))} unique)</span>}
        </Stat>
        {numeric && (
          <>
            <Stat label="Min">{formatNumber(numeric.min)}</Stat>
            <Stat label="Max">{formatNumber(numeric.max)}</Stat>
            <Stat label="Mean">{numeric.mean === null ? "too large" : formatNumber(numeric.mean)}</Stat>
            <Stat label="Std dev">{numeric.stdDev === null ? "too large" : formatNumber(numeric.stdDev)}</Stat>
            <Stat label="Zeros">{countWithShare(numeric.zeroCount, column.nonNullCount)}</Stat>
            <Stat label="Negative">{countWithShare(numeric.negativeCount, column.nonNullCount)}</Stat>
          </>
        )}
        {temporal && (
          <>
            <Stat label="Min">{formatTemporal(temporal.min)}</Stat>
            <Stat label="Max">{formatTemporal(temporal.max)}</Stat>
            <Stat label="Mean">{formatTemporal(temporal.mean)}</Stat>
          </>
        )}
        {column.inferredType === "STRING" && lengths && (
          <Stat label="Length">
            {lengths.min === lengths.max
              ? formatCount(lengths.min)
              : `${formatCount(lengths.min)} – ${formatCount(lengths.max)}`}
            <span class="muted"> (mean {formatNumber(Math.round(lengths.mean * 10) / 10)})</span>
          </Stat>
        )}
        {column.inferredType === "STRING" && column.minText !== null && (
          <Stat label="First (sorted)" title={column.minText}>
            <span class="value">{displayValue(column.minText)}</span>
          </Stat>
        )}
        {column.inferredType === "STRING" && column.maxText !== null && (
          <Stat label="Last (sorted)" title={column.maxText}>
            <span class="value">{displayValue(column.maxText)}</span>
          </Stat>
        )}
      </dl>
      {column.boolean && <BooleanBar trueCount={column.boolean.trueCount} falseCount={column.boolean.falseCount} />}
      {histogram && (
        <div class="card-section">
          <h4 id={`${anchor}-dist`}>{histogram.kind === "length" ? "Lengths" : "Distribution"}</h4>
          {seen ? <HistogramChart histogram={histogram} name={name} /> : <div class="chart-placeholder" />}
          {quantiles && (
            <dl class="quantiles">
              {QUANTILE_NAMES.map((q) => (
                <div key={q} class={q === "p50" ? "median" : undefined}>
                  <dt>{q}</dt>
                  <dd>{showQuantile(quantiles[q])}</dd>
                </div>
              ))}
            </dl>
          )}
        </div>
      )}
      {top && (
        <div class="card-section">
          <h4 id={`${anchor}-top`}>Top values</h4>
          {seen ? <TopValuesChart top={top} headingId={`${anchor}-top`} /> : <div class="list-placeholder" />}
        </div>
      )}
      {column.junkExamples.length > 0 && (
        <div class="card-section">
          <h4 id={`${anchor}-junk`}>Values that are not {TYPE_NAMES[column.inferredType]}</h4>
          <ul class="examples">
            {column.junkExamples.map((e) => (
              <li key={`${e.line}:${e.value}`}>
                <span class="muted">line {formatCount(e.line)}:</span>{" "}
                <code class="value" title={e.value}>
                  {displayValue(e.value)}
                </code>
              </li>
            ))}
          </ul>
        </div>
      )}
      {column.samples.length > 0 && (
        <div class="card-section">
          <h4 id={`${anchor}-samples`}>Samples</h4>
          <ul class="samples">
            {column.samples.map((s, i) => (
              <li key={i} title={s}>
                {displayValue(s)}
              </li>
            ))}
          </ul>
        </div>
      )}
    </article>
  );
}
