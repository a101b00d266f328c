// The file as a whole: how it was read, how big it is, what was skipped,
// and how long profiling took.
import type { ComponentChildren } from "preact";
import { MALFORMED_ANCHOR } from "./attention";
import { COMPRESSION_NAMES, describeDelimiter, describeQuote, FORMAT_NAMES, LINE_ENDING_NAMES } from "./facts";
import { type Jump, jumpOnClick } from "./jump";
import { elapsedMs, formatBytes, formatCount, formatDuration } from "../format";
import type { ResultJob, TableProfile } from "./query";

function Fact(props: { label: string; children: ComponentChildren }) {
  return (
    <div class="fact">
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

/** Marks a fact the person set at upload rather than one Loupe detected. */
function Chosen() {
  return <span class="muted"> (set at upload)</span>;
}

/** Bytes with the exact count alongside, since "1.5 MiB" hides whether a file was cut short. */
export function Bytes(props: { bytes: number }) {
  return <span title={`${formatCount(props.bytes)} bytes`}>{formatBytes(props.bytes)}</span>;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function Timestamp(props: { iso: string | null }) {
  if (!props.iso) return <span class="muted">—</span>;
  const date = new Date(props.iso);
  if (Number.isNaN(date.getTime())) return <span>{props.iso}</span>;
  return (
    <time dateTime={props.iso} title={props.iso}>
      {dateTime.format(date)}
    </time>
  );
}

export function Timing(props: { job: ResultJob }) {
  const { job } = props;
  const total = elapsedMs(job.createdAt, job.finishedAt);
  const processing = elapsedMs(job.startedAt, job.finishedAt);
  return (
    <dl class="facts">
      <Fact label="Created">
        <Timestamp iso={job.createdAt} />
      </Fact>
      <Fact label="Started">
        <Timestamp iso={job.startedAt} />
      </Fact>
      <Fact label="Finished">
        <Timestamp iso={job.finishedAt} />
      </Fact>
      {total !== null && (
        <Fact label="Took">
          {formatDuration(total)}
          {processing !== null && <span class="muted"> ({formatDuration(processing)} processing)</span>}
        </Fact>
      )}
      {job.attempts > 1 && <Fact label="Attempts">{job.attempts}</Fact>}
    </dl>
  );
}

export function FileFacts(props: { job: ResultJob; profile: TableProfile; onJump: Jump }) {
  const { job, profile: p } = props;
  const compressed = p.compression !== "NONE";
  return (
    <section aria-labelledby="file-heading">
      <h2 id="file-heading">File</h2>
      <div class="panel facts-panel">
        <dl class="facts">
          <Fact label="Format">
            {FORMAT_NAMES[p.format]}
            {job.upload.format && <Chosen />}
          </Fact>
          {p.format !== "JSON_LINES" && (
            <>
              <Fact label="Delimiter">
                {describeDelimiter(p.delimiter)}
                {job.upload.delimiter !== null && <Chosen />}
              </Fact>
              <Fact label="Quote">{describeQuote(p.quote)}</Fact>
              <Fact label="Header row">{p.hasHeader ? "yes" : "no"}</Fact>
            </>
          )}
          <Fact label="Encoding">{p.encoding}</Fact>
          <Fact label="Byte order mark">{p.bom ? "yes" : "no"}</Fact>
          <Fact label="Line ending">{LINE_ENDING_NAMES[p.lineEnding]}</Fact>
          <Fact label="Compression">{COMPRESSION_NAMES[p.compression]}</Fact>
          <Fact label="Rows">{formatCount(p.rowCount)}</Fact>
          <Fact label="Columns">{formatCount(p.columnCount)}</Fact>
          <Fact label="Size">
            <Bytes bytes={job.upload.size} />
          </Fact>
          <Fact label="Bytes read">
            <Bytes bytes={p.bytesRead} />
          </Fact>
          {compressed && (
            <Fact label="Decompressed">
              <Bytes bytes={p.decompressedBytes} />
            </Fact>
          )}
          <Fact label="Malformed rows">
            {p.malformedRowCount > 0 ? (
              <a href={`#${MALFORMED_ANCHOR}`} class="bad-text" onClick={jumpOnClick(MALFORMED_ANCHOR, props.onJump)}>
                {formatCount(p.malformedRowCount)}
              </a>
            ) : (
              "none"
            )}
          </Fact>
        </dl>
        <Timing job={job} />
      </div>
      {p.malformedRowCount > 0 && <MalformedRows profile={p} />}
    </section>
  );
}

function MalformedRows(props: { profile: TableProfile }) {
  const p = props.profile;
  const shown = p.malformedExamples.length;
  return (
    <div class="malformed" id={MALFORMED_ANCHOR} tabIndex={-1}>
      <h3>Malformed rows</h3>
      <p class="muted">
        {formatCount(p.malformedRowCount)} {p.malformedRowCount === 1 ? "row was" : "rows were"} skipped
        {shown < p.malformedRowCount ? `; the first ${formatCount(shown)} are listed` : ""}.
      </p>
      {shown > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {p.malformedExamples.map((row) => (
              <tr key={row.line}>
                <td class="num">{formatCount(row.line)}</td>
                <td>{row.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
