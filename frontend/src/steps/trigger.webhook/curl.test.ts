import { describe, expect, it } from "vitest";

import { type WebhookInfo, curlExample, shellQuote } from "./curl";

const unsigned: WebhookInfo = {
  url: "http://127.0.0.1:8000/api/hooks/abc/",
  active: true,
  signing: false,
  signature_header: null,
  timestamp_header: null,
  tolerance_s: null,
  secret_credential: null,
  max_body_bytes: 1048576,
  version: 1,
  created_at: "2026-01-01T00:00:00Z",
  rotated_at: null,
};

describe("the curl example", () => {
  it("posts the body as JSON to the URL when requests are not signed", () => {
    expect(curlExample(unsigned, '{"a": 1}')).toBe(
      [
        "curl -X POST 'http://127.0.0.1:8000/api/hooks/abc/' \\",
        "  -H 'Content-Type: application/json' \\",
        `  --data '{"a": 1}'`,
      ].join("\n"),
    );
  });

  it("signs <timestamp>.<body> and sends both headers when signing is on", () => {
    const text = curlExample({
      ...unsigned,
      signing: true,
      signature_header: "X-Sig",
      timestamp_header: "X-Time",
      secret_credential: "stripe",
    });
    expect(text).toContain("# the value of the credential stripe");
    expect(text).toContain(`printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET"`);
    expect(text).toContain(`-H "X-Time: $TS"`);
    expect(text).toContain(`-H "X-Sig: sha256=$SIG"`);
    expect(text).not.toContain("X-Flowdeck");
  });

  it("quotes single quotes for the shell", () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});
