"use client";
/** JSON and CSV download buttons of a patching grid (lib/export/patching.ts writes the files). */
import { downloadText } from "../download";

export function GridExport(props: {
  /** File name without extension. */
  file: string;
  testId: string;
  /** null while there is nothing to export. */
  files: { json: () => string; csv: () => string } | null;
}) {
  const { file, testId, files } = props;
  return (
    <div className="heads__export">
      <button
        type="button"
        className="btn btn--ghost"
        disabled={!files}
        onClick={() => files && downloadText(files.json(), `${file}.json`, "application/json")}
        data-testid={`${testId}-export-json`}
      >
        JSON
      </button>
      <button
        type="button"
        className="btn btn--ghost"
        disabled={!files}
        onClick={() => files && downloadText(files.csv(), `${file}.csv`, "text/csv")}
        data-testid={`${testId}-export-csv`}
      >
        CSV
      </button>
    </div>
  );
}
