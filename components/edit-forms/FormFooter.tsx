"use client";
/**
 * The end of a one-edit form: its error line (if any), then Cancel and the submit button.
 * Test ids are `${testPrefix}-error` and `${testPrefix}-apply`.
 */
export function FormFooter({
  error,
  onCancel,
  applyLabel,
  testPrefix,
}: {
  error: string | null | undefined;
  onCancel: () => void;
  applyLabel: string;
  testPrefix: string;
}) {
  return (
    <>
      {error ? (
        <p className="form-error" role="alert" data-testid={`${testPrefix}-error`}>
          {error}
        </p>
      ) : null}
      <div className="editform__actions">
        <button type="button" className="btn btn--ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn--primary" data-testid={`${testPrefix}-apply`}>
          {applyLabel}
        </button>
      </div>
    </>
  );
}
