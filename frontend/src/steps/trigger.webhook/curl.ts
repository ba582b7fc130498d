/** The webhook's details as GET /api/workflows/{id}/webhook/ returns them. */
export type WebhookInfo = {
  url: string;
  active: boolean;
  signing: boolean;
  signature_header: string | null;
  timestamp_header: string | null;
  tolerance_s: number | null;
  secret_credential: string | null;
  max_body_bytes: number;
  version: number | null;
  created_at: string;
  rotated_at: string | null;
};

/** A string in single quotes for a POSIX shell. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A curl command that starts a run; with signing, the recipe that signs the body first:
 * HMAC-SHA256 over `<timestamp>.<body>` with the secret, sent as `sha256=<hex>`. */
export function curlExample(info: WebhookInfo, body = '{"hello": "world"}'): string {
  const lines = [`curl -X POST ${shellQuote(info.url)} \\`, `  -H 'Content-Type: application/json' \\`];
  if (!info.signing) return [...lines, `  --data ${shellQuote(body)}`].join("\n");
  return [
    `SECRET='...'  # the value of the credential ${info.secret_credential}`,
    `BODY=${shellQuote(body)}`,
    "TS=$(date +%s)",
    `SIG=$(printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.* //')`,
    ...lines,
    `  -H "${info.timestamp_header}: $TS" \\`,
    `  -H "${info.signature_header}: sha256=$SIG" \\`,
    `  --data "$BODY"`,
  ].join("\n");
}
