// "Attention" first: what a person should look at before anything else,
// each item a link to its column card (or the malformed rows).
import { useState } from "preact/hooks";
import { type AttentionItem, groupAttention, KIND_TITLES } from "./attention";
import { type Jump, jumpOnClick } from "./jump";

/** A group longer than this shows its first items and a "Show all" button. */
const COLLAPSED_ITEMS = 5;

export function AttentionSummary(props: { items: AttentionItem[]; onJump: Jump }) {
  const groups = groupAttention(props.items);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  return (
    <section class="attention-summary" aria-labelledby="attention-heading">
      <h2 id="attention-heading">Attention</h2>
      {groups.length === 0 ? (
        <p class="alert">
          Nothing stands out: no malformed rows, and no empty, constant, junk-laden or id-like columns.
        </p>
      ) : (
        <div class="attention-groups">
          {groups.map((group) => {
            const open = expanded.has(group.kind) || group.items.length <= COLLAPSED_ITEMS;
            const items = open ? group.items : group.items.slice(0, COLLAPSED_ITEMS);
            return (
              <div key={group.kind} class={`attention-group panel ${group.severity}`}>
                <h3>
                  {KIND_TITLES[group.kind]}{" "}
                  {group.kind !== "malformed-rows" && (
                    <span class={`badge ${group.severity}`}>{group.items.length}</span>
                  )}
                </h3>
                <ul>
                  {items.map((item) => (
                    <li key={item.anchor}>
                      <a href={`#${item.anchor}`} onClick={jumpOnClick(item.anchor, props.onJump)}>
                        {item.subject ?? item.message}
                      </a>
                      {item.subject !== null && <span class="muted"> — {item.message}</span>}
                    </li>
                  ))}
                </ul>
                {!open && (
                  <button type="button" class="small" onClick={() => setExpanded(new Set([...expanded, group.kind]))}>
                    Show all {group.items.length}
                  </button>
                )}
              </div>
            );
          })}
        </div>
      )}
    </section>
  );
}
