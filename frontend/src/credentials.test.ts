import { describe, expect, it } from "vitest";

import {
  type Credential,
  type KindInfo,
  atLeast,
  credentialChoices,
  credentialData,
  credentialUiSchema,
  errorsByField,
  initialValues,
  kindFields,
  publicSummary,
  secretStates,
  secretSummary,
} from "./credentials";

// Shaped like GET /api/credentials/kinds/ (connectors/kinds.py).
const SMTP: KindInfo = {
  kind: "smtp",
  title: "SMTP server",
  public: {
    host: { type: "string", minLength: 1, maxLength: 253 },
    port: { type: "integer", minimum: 1, maximum: 65535 },
    username: { type: "string", maxLength: 256 },
    security: { type: "string", enum: ["starttls", "ssl", "none"] },
    from_email: { type: "string", format: "email", maxLength: 254 },
  },
  secret: { password: { type: "string", maxLength: 8192 } },
  required: ["host", "port"],
};
const BEARER: KindInfo = {
  kind: "http_bearer",
  title: "HTTP bearer token",
  public: {},
  secret: { token: { type: "string", minLength: 1, maxLength: 8192 } },
  required: ["token"],
};

function credential(extra: Partial<Credential>): Credential {
  return {
    id: 1,
    name: "mail",
    kind: "smtp",
    description: "",
    owner: "alice",
    role: "owner",
    data: {},
    secret_fields: [],
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    ...extra,
  };
}

describe("a kind's form", () => {
  it("has the public fields as text, number, choice or email inputs, then the secrets as passwords", () => {
    const fields = kindFields(SMTP);
    expect(fields.map((f) => [f.name, f.input, f.required, f.secret])).toEqual([
      ["host", "text", true, false],
      ["port", "number", true, false],
      ["username", "text", false, false],
      ["security", "select", false, false],
      ["from_email", "email", false, false],
      ["password", "password", false, true],
    ]);
    expect(fields[1]).toMatchObject({ label: "Port", min: 1, max: 65535 });
    expect(fields[3].options).toEqual(["starttls", "ssl", "none"]);
    expect(fields[4].label).toBe("From address");
    expect(kindFields(BEARER)).toEqual([
      { name: "token", label: "Token", secret: true, required: true, input: "password", maxLength: 8192 },
    ]);
  });

  it("starts from the public fields and never from a secret", () => {
    const stored = credential({ data: { host: "mail.example.com", port: 587 }, secret_fields: ["password"] });
    expect(initialValues(kindFields(SMTP), stored)).toEqual({
      host: "mail.example.com",
      port: "587",
      username: "",
      security: "",
      from_email: "",
      password: "",
    });
  });
});

describe("the data sent", () => {
  const fields = kindFields(SMTP);
  const blank = initialValues(fields);

  it("sends numbers as numbers and leaves out what is empty", () => {
    expect(credentialData(fields, { ...blank, host: "mail", port: "587", password: "pw" })).toEqual({
      host: "mail",
      port: 587,
      password: "pw",
    });
    // Not a number: sent as typed, for the server to name the field.
    expect(credentialData(fields, { ...blank, port: "58x" })).toEqual({ port: "58x" });
  });

  it("keeps a stored secret by leaving an empty one out, and clears a public text field that was set", () => {
    const stored = credential({ data: { host: "mail", port: 25, username: "svc" }, secret_fields: ["password"] });
    const values = { ...initialValues(fields, stored), username: "", port: "" };
    expect(credentialData(fields, values, stored)).toEqual({ host: "mail", username: "" });
    expect(credentialData(kindFields(BEARER), { token: "" }, credential({ kind: "http_bearer" }))).toEqual({});
  });
});

describe("the server's errors", () => {
  const error = (field: string | null, message: string) => ({ node: null, edge: null, field, code: "invalid", message });

  it("go under the field they name, and the others under the form", () => {
    expect(
      errorsByField(
        [error("data.token", "token is required"), error("name", "bad name"), error("data", "extra field"), error(null, "no")],
        ["name", "token"],
      ),
    ).toEqual({ token: ["token is required"], name: ["bad name"], "": ["data: extra field", "no"] });
  });
});

describe("the list's words", () => {
  it("tell which secrets are set, from the kind, without a value", () => {
    const stored = credential({ kind: "smtp", secret_fields: [] });
    expect(secretStates(stored, SMTP)).toEqual([{ name: "password", set: false }]);
    const set = { ...stored, secret_fields: ["password"] };
    expect(secretStates(set, SMTP)).toEqual([{ name: "password", set: true }]);
    expect(secretStates(set, undefined)).toEqual([{ name: "password", set: true }]);
  });

  it("show the public fields and whether each secret is set, never a value", () => {
    const stored = credential({ data: { host: "mail", port: 25 }, secret_fields: [] });
    expect(publicSummary(stored)).toBe("host: mail, port: 25");
    expect(secretSummary(stored, SMTP)).toBe("password: not set");
    expect(secretSummary(credential({ kind: "http_bearer", secret_fields: ["token"] }), BEARER)).toBe("token: set");
    expect(publicSummary(credential({ kind: "http_bearer" }))).toBe("—");
  });

  it("offer controls by role", () => {
    expect(atLeast("runner", "editor")).toBe(false);
    expect(atLeast("editor", "editor")).toBe(true);
    expect(atLeast("owner", "editor")).toBe(true);
    expect(atLeast(null, "viewer")).toBe(false);
  });
});

describe("a credential field in the designer", () => {
  it("gets the credential select at its config path, nested ones too", () => {
    expect(
      credentialUiSchema({ credential: ["smtp"], "signature.secret_credential": ["secret"] }),
    ).toEqual({
      credential: { "ui:widget": "credential", "ui:options": { kinds: ["smtp"] } },
      signature: { secret_credential: { "ui:widget": "credential", "ui:options": { kinds: ["secret"] } } },
    });
    expect(credentialUiSchema(undefined)).toEqual({});
  });

  const usable = [
    credential({ name: "zeta", kind: "http_basic" }),
    credential({ name: "mail", kind: "smtp" }),
    credential({ name: "alpha", kind: "http_bearer" }),
  ];
  const HTTP = ["http_bearer", "http_basic", "http_header", "api_key"];

  it("offers the usable credentials of the accepted kinds, by name", () => {
    expect(credentialChoices(usable, HTTP, undefined)).toEqual({
      options: [
        { value: "alpha", label: "alpha (http_bearer)" },
        { value: "zeta", label: "zeta (http_basic)" },
      ],
      unknown: null,
    });
    expect(credentialChoices(usable, HTTP, "zeta").unknown).toBeNull();
  });

  it("keeps a name it does not know, flagged; a wrong kind is not known either", () => {
    const imported = credentialChoices(usable, HTTP, "old-api");
    expect(imported.unknown).toBe("old-api");
    expect(imported.options[0]).toEqual({ value: "old-api", label: "old-api (not available)" });
    expect(credentialChoices(usable, HTTP, "mail").unknown).toBe("mail");
  });

  it("flags nothing while the list loads, but still shows the name", () => {
    expect(credentialChoices(null, HTTP, "old-api")).toEqual({ options: [{ value: "old-api", label: "old-api" }], unknown: null });
  });
});
