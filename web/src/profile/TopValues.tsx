// The most frequent values as a horizontal bar chart; bars are CSS widths,
// the text beside them carries the numbers for everyone.
import { formatCount, formatShare } from "../format";
import { FLAT_SHARE, type TopValues } from "./topValues";

export function TopValuesChart(props: { top: TopValues; headingId: string }) {
  const { top, headingId } = props;
  const list = (
    <ol aria-labelledby={headingId}>
      {top.rows.map((row, index) => (
        <li key={index}>
          <span class={row.placeholder ? "top-value placeholder" : "top-value"} title={row.value}>
            {row.text}
          </span>
          <span class="top-bar" aria-hidden="true">
            <span style={{ width: `${(row.length * 100).toFixed(2)}%` }} />
          </span>
          <span class="top-count">
            {formatCount(row.count)} <span class="muted">({formatShare(row.share)})</span>
          </span>
        </li>
      ))}
    </ol>
  );
  if (top.flat) {
    return (
      <div class="top-values" data-testid="top-values">
        <p class="muted">No value stands out: the most frequent covers under {formatShare(FLAT_SHARE)} of rows.</p>
        <details>
          <summary>Show the {top.rows.length} listed</summary>
          {list}
        </details>
      </div>
    );
  }
  return (
    <div class="top-values" data-testid="top-values">
      {list}
      <p class="muted">
        {top.rows.length === 1 ? "This value covers" : `These ${top.rows.length} values cover`}{" "}
        {formatShare(top.covered)} of rows.{top.errorNote && ` ${top.errorNote}`}
      </p>
    </div>
  );
}

export function BooleanBar(props: { trueCount: number; falseCount: number }) {
  const { trueCount, falseCount } = props;
  const total = trueCount + falseCount;
  const trueShare = total > 0 ? trueCount / total : 0;
  return (
    <div class="boolean">
      <div class="boolean-bar" aria-hidden="true">
        <span class="true" style={{ width: `${(trueShare * 100).toFixed(2)}%` }} />
      </div>
      <dl class="boolean-counts">
        <div>
          <dt>
            <span class="swatch true" aria-hidden="true" />
            true
          </dt>
          <dd>
            {formatCount(trueCount)} <span class="muted">({formatShare(trueShare)})</span>
          </dd>
        </div>
        <div>
          <dt>
            <span class="swatch false" aria-hidden="true" />
            false
          </dt>
          <dd>
            {formatCount(falseCount)} <span class="muted">({formatShare(total > 0 ? falseCount / total : 0)})</span>
          </dd>
        </div>
      </dl>
    </div>
  );
}
