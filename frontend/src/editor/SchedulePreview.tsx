/**
 * Below a trigger.schedule step's form: the next five times its cron fires in its time zone,
 * read by the server as the schedule will read it (asked a moment after the last keystroke),
 * or what is wrong with the expression.
 */
import { useEffect, useState } from "react";

import { api } from "../api";
import {
  PREVIEW_DEBOUNCE_MS,
  type PreviewResponse,
  formatFireTime,
  previewError,
  previewRequest,
} from "./schedulePreview";

type Shown = { times: string[] } | { error: string } | null;

export function SchedulePreview({ config }: { config: Record<string, unknown> }) {
  const request = previewRequest(config);
  const cron = request?.cron;
  const zone = request?.timezone;
  const [shown, setShown] = useState<Shown>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    if (cron === undefined || zone === undefined) {
      setShown(null);
      return;
    }
    // Only the answer to the newest expression counts: older ones are ignored when they land.
    let current = true;
    setLoading(true);
    const timer = setTimeout(() => {
      api<PreviewResponse>("/api/schedules/preview/", { method: "POST", body: { cron, timezone: zone } })
        .then((answer) => current && setShown({ times: answer.next_fire_times }))
        .catch((error: unknown) => current && setShown({ error: previewError(error) }))
        .finally(() => current && setLoading(false));
    }, PREVIEW_DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [cron, zone]);

  return (
    <section className="schedule-preview" aria-label="Next fire times" aria-busy={loading}>
      <h3>Next fire times{zone ? ` (${zone})` : ""}</h3>
      {!request && <p className="help">Enter a cron expression to see when it fires.</p>}
      {request && shown && "error" in shown && <p role="alert">{shown.error}</p>}
      {request && shown && "times" in shown && (
        <ol>
          {shown.times.map((time) => (
            <li key={time}>
              <time dateTime={time}>{formatFireTime(time)}</time>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
