import { JobsTable } from "../jobs/list";
import { DropZone } from "../upload/drop";
import { UploadList } from "../upload/list";

export function HomePage() {
  return (
    <>
      <DropZone />
      <UploadList />
      <JobsTable first={8} after={null} title="Recent jobs" headingLevel={2} paginate={false} />
    </>
  );
}
