/**
 * A config field naming a credential (the catalog's `credential_fields`): a select of the
 * credentials the user may use, of the kinds the field accepts, and a link to create one. A
 * name outside that list (an imported graph, a grant taken back) stays selected and is flagged;
 * the server refuses to save it and its error shows under the field too.
 */
import "./credential.css";

import type { WidgetProps } from "@rjsf/utils";
import { ariaDescribedByIds } from "@rjsf/utils";

import { credentialChoices, useUsableCredentials } from "../credentials";

export function CredentialWidget(props: WidgetProps) {
  const { id, value, onChange, onBlur, onFocus, options, disabled, readonly } = props;
  const kinds = Array.isArray(options.kinds) ? (options.kinds as string[]) : [];
  const { usable, error } = useUsableCredentials();
  const { options: choices, unknown } = credentialChoices(usable, kinds, value);
  const warningId = `${id}__credential`;
  return (
    <div className="credential-select">
      <select
        id={id}
        value={typeof value === "string" ? value : ""}
        disabled={disabled || readonly}
        aria-invalid={unknown !== null || undefined}
        aria-describedby={[ariaDescribedByIds(id), unknown !== null || error ? warningId : ""].filter(Boolean).join(" ")}
        // Empty is no credential: the key leaves the config rather than holding "".
        onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
        onBlur={(e) => onBlur(id, e.target.value)}
        onFocus={(e) => onFocus(id, e.target.value)}
      >
        <option value="">No credential</option>
        {choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
      {unknown !== null && (
        <small id={warningId} className="credential-warning" role="alert">
          {unknown} is not among the {kinds.join(", ")} credentials you may use, so this workflow cannot be saved with
          it. Pick another, or ask its owner for the runner role.
        </small>
      )}
      {error && unknown === null && (
        <small id={warningId} className="credential-warning" role="alert">
          Could not list your credentials: {error}
        </small>
      )}
      {/* A new tab: the workflow's unsaved edits stay here; the list is read again on return. */}
      <a href={`/credentials?new=${encodeURIComponent(kinds[0] ?? "")}`} target="_blank" rel="noopener">
        Create a credential (opens the Credentials page)
      </a>
    </div>
  );
}
