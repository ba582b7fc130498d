import { describe, expect, it } from "vitest";

import { ApiError } from "./api";
import { fieldError, fullName } from "./people";

describe("people", () => {
  it("puts a 400's messages under the field they name, nested ones included", () => {
    const error = new ApiError(
      400,
      [
        { node: null, edge: null, field: "username", code: "unique", message: "a user named bob exists" },
        { node: null, edge: null, field: "usernames.1", code: "not_found", message: "no user named zed" },
      ],
      {},
    );
    expect(fieldError(error, "username")).toBe("a user named bob exists");
    expect(fieldError(error, "usernames")).toBe("no user named zed");
    expect(fieldError(error, "email")).toBeUndefined();
    expect(fieldError(null, "username")).toBeUndefined();
  });

  it("writes a name from its parts, leaving out what is blank", () => {
    expect(fullName({ first_name: "Erin", last_name: "Park" })).toBe("Erin Park");
    expect(fullName({ first_name: "", last_name: "Park" })).toBe("Park");
    expect(fullName({ first_name: "", last_name: "" })).toBe("");
  });
});
