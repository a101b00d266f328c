// A finished table profile: title, attention summary, file facts and the
// column cards. The list state lives in the URL query and the jump target
// in the hash, so what a person sees can be shared as a link.
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { attentionItems } from "./attention";
import { AttentionSummary } from "./Attention";
import { copyText, downloadJson } from "./clipboard";
import { columnIndexOf, columnLabel } from "./column";
import { Columns } from "./Columns";
import { columnJson, FORMAT_NAMES, profileDocument, profileFilename } from "./facts";
import { FileFacts } from "./FileFacts";
import { formatBytes, formatCount } from "../format";
import { DEFAULT_LIST_STATE, type ListState, parseListState, serializeListState, visibleColumns } from "./list";
import type { ResultJob, TableProfile } from "./query";
import "./profile.css";

/** Long enough for cards near a jump target to draw their charts. */
const RESETTLE_MS = 120;

/** How long the "Copied" status stays on screen. */
const STATUS_MS = 4000;

function replaceUrl(search: string, hash: string): void {
  history.replaceState(history.state, "", `${location.pathname}${search}${hash}`);
}

export function ProfileView(props: { job: ResultJob; profile: TableProfile }) {
  const { job, profile } = props;
  const attention = useMemo(() => attentionItems(profile), [profile]);
  const [list, setList] = useState<ListState>(() => parseListState(location.search));
  const [jump, setJump] = useState<string | null>(() => location.hash.slice(1) || null);
  const [status, setStatus] = useState("");
  const statusTimer = useRef<ReturnType<typeof setTimeout>>();

  const changeList = (next: ListState) => {
    setList(next);
    replaceUrl(serializeListState(next, location.search), location.hash);
  };

  const onJump = (anchor: string) => {
    // A card hidden by the search or type filter cannot be scrolled to.
    const index = columnIndexOf(anchor);
    if (index !== null && !visibleColumns(profile.columns, list).includes(index)) {
      changeList({ ...DEFAULT_LIST_STATE, sort: list.sort, direction: list.direction });
    }
    replaceUrl(location.search, `#${anchor}`);
    setJump(anchor);
  };

  useEffect(() => {
    if (!jump) return;
    const target = document.getElementById(jump);
    setJump(null);
    if (!target) return;
    target.scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
    // Cards drawn because of that scroll (their charts wait to be seen) may
    // be taller than their estimated size and push the target down; once
    // they are drawn, scroll to it again.
    setTimeout(() => {
      if (target.isConnected) target.scrollIntoView({ block: "start" });
    }, RESETTLE_MS);
  }, [jump]);

  const announce = useCallback((text: string) => {
    setStatus(text);
    clearTimeout(statusTimer.current);
    statusTimer.current = setTimeout(() => setStatus(""), STATUS_MS);
  }, []);
  useEffect(() => () => clearTimeout(statusTimer.current), []);

  const columns = profile.columns;
  const onCopy = useCallback(
    (index: number) => {
      const name = columnLabel(columns[index].name, index);
      void copyText(columnJson(columns[index])).then((ok) =>
        announce(
          ok ? `Copied the profile of “${name}” as JSON.` : "Could not copy: the browser refused the clipboard.",
        ),
      );
    },
    [columns, announce],
  );

  const download = () => {
    downloadJson(profileFilename(job.upload.filename), profileDocument(job, profile));
    announce("Downloading the profile as JSON.");
  };

  return (
    <div class="profile" data-testid="result-ready">
      <header class="profile-head">
        <div class="profile-title">
          <h1 title={job.upload.filename}>{job.upload.filename}</h1>
          <p class="muted">
            {FORMAT_NAMES[profile.format]} · {formatCount(profile.rowCount)} {profile.rowCount === 1 ? "row" : "rows"} ×{" "}
            {formatCount(profile.columnCount)} {profile.columnCount === 1 ? "column" : "columns"} ·{" "}
            {formatBytes(job.upload.size)}
          </p>
        </div>
        <button type="button" onClick={download}>
          Download JSON
        </button>
      </header>
      <AttentionSummary items={attention} onJump={onJump} />
      <FileFacts job={job} profile={profile} onJump={onJump} />
      <Columns
        profile={profile}
        attention={attention}
        state={list}
        onStateChange={changeList}
        onCopy={onCopy}
        complete={jump !== null}
      />
      <p class={status ? "profile-toast" : "profile-toast hidden"} role="status" aria-live="polite">
        {status}
      </p>
    </div>
  );
}
