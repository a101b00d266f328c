// The column cards with their controls. Cards are built once per profile
// and reused: Preact skips a vnode it has already rendered, so typing in
// the search box only re-orders and hides cards instead of diffing 500.
import { useEffect, useMemo, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { AttentionItem } from "./attention";
import { COLUMN_TYPES, TYPE_NAMES } from "./column";
import { ColumnCard } from "./ColumnCard";
import { formatCount } from "../format";
import {
  type ListState,
  SORT_KEYS,
  SORT_LABELS,
  type SortDirection,
  type SortKey,
  typeCounts,
  visibleColumns,
} from "./list";
import type { ColumnType, TableProfile } from "./query";

/**
 * Cards in the first render; the rest follow in batches, one per frame, so
 * the page shows something before all of a wide profile is built.
 */
const FIRST_BATCH = 24;
const BATCH = 120;

export interface ColumnsProps {
  profile: TableProfile;
  /** Build every card now (a jump to a card needs it in the page). */
  complete: boolean;
  attention: AttentionItem[];
  state: ListState;
  onStateChange(state: ListState): void;
  onCopy(index: number): void;
}

export function Columns(props: ColumnsProps) {
  const { profile, attention, state, onStateChange, onCopy, complete } = props;
  const columns = profile.columns;
  const cards = useMemo(() => {
    const byColumn = new Map<number, AttentionItem[]>();
    for (const item of attention) {
      if (item.column === null) continue;
      byColumn.set(item.column, [...(byColumn.get(item.column) ?? []), item]);
    }
    return columns.map((column, index): VNode => (
      <li key={index}>
        <ColumnCard
          column={column}
          index={index}
          attention={byColumn.get(index) ?? []}
          distinctError={profile.distinctRelativeError}
          onCopy={onCopy}
        />
      </li>
    ));
  }, [columns, attention, profile.distinctRelativeError, onCopy]);
  const counts = useMemo(() => typeCounts(columns), [columns]);
  const visible = useMemo(() => visibleColumns(columns, state), [columns, state]);
  const [built, setBuilt] = useState(FIRST_BATCH);
  const shown = complete ? visible.length : Math.min(built, visible.length);
  useEffect(() => {
    if (complete) setBuilt(columns.length);
  }, [complete, columns.length]);
  useEffect(() => {
    if (built >= columns.length) return;
    const frame = requestAnimationFrame(() => setBuilt((n) => n + BATCH));
    return () => cancelAnimationFrame(frame);
  }, [built, columns.length]);
  const update = (patch: Partial<ListState>) => onStateChange({ ...state, ...patch });

  return (
    <section aria-labelledby="columns-heading">
      <h2 id="columns-heading">Columns</h2>
      <form class="column-controls panel" role="search" onSubmit={(event) => event.preventDefault()}>
        <label>
          <span>Search columns</span>
          <input
            type="search"
            value={state.query}
            placeholder="Name contains…"
            onInput={(event) => update({ query: event.currentTarget.value })}
          />
        </label>
        <label>
          <span>Type</span>
          <select
            value={state.type ?? ""}
            onChange={(event) => update({ type: (event.currentTarget.value || null) as ColumnType | null })}
          >
            <option value="">All types ({formatCount(columns.length)})</option>
            {COLUMN_TYPES.filter((t) => counts.has(t) || t === state.type).map((t) => (
              <option key={t} value={t}>
                {TYPE_NAMES[t]} ({formatCount(counts.get(t) ?? 0)})
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Sort by</span>
          <select value={state.sort} onChange={(event) => update({ sort: event.currentTarget.value as SortKey })}>
            {SORT_KEYS.map((key) => (
              <option key={key} value={key}>
                {SORT_LABELS[key]}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Order</span>
          <select
            value={state.direction}
            onChange={(event) => update({ direction: event.currentTarget.value as SortDirection })}
          >
            <option value="asc">Ascending</option>
            <option value="desc">Descending</option>
          </select>
        </label>
      </form>
      <p class="muted" role="status">
        {visible.length === columns.length
          ? `${formatCount(columns.length)} ${columns.length === 1 ? "column" : "columns"}`
          : `Showing ${formatCount(visible.length)} of ${formatCount(columns.length)} columns`}
      </p>
      {visible.length === 0 ? (
        <p class="empty">
          No column matches.{" "}
          <button
            type="button"
            onClick={() => onStateChange({ query: "", type: null, sort: state.sort, direction: state.direction })}
          >
            Clear search and filter
          </button>
        </p>
      ) : (
        <ol class="column-cards">{visible.slice(0, shown).map((index) => cards[index])}</ol>
      )}
    </section>
  );
}
