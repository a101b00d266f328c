import { JobsTable } from "../jobs/list";

/** The whole history, a page at a time; the cursor lives in the URL. */
export function JobsPage(props: { after: string | null }) {
  return <JobsTable first={25} after={props.after} title="Your jobs" headingLevel={1} paginate />;
}
