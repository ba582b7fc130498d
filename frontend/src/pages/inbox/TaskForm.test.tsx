import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { renderWithProviders } from "../../test/render";
import { TaskForm, itemName } from "./TaskForm";

const schema = {
  type: "object",
  required: ["iban"],
  properties: {
    iban: { type: "string", title: "IBAN" },
    contacts: {
      type: "array",
      title: "Contacts",
      items: { type: "object", properties: { name: { type: "string", title: "Name" } } },
    },
  },
};

describe("a form task", () => {
  it("names the item an array button acts on", () => {
    expect(itemName("root_contacts_0")).toBe("item 1");
    expect(itemName("root_contacts_2__remove")).toBe("item 3");
    expect(itemName(undefined)).toBe("item");
  });

  it("draws arrays of objects with labelled buttons and submits what was typed", async () => {
    const onSubmit = vi.fn();
    renderWithProviders(<TaskForm schema={schema} disabled={false} busy={false} onSubmit={onSubmit} />);
    fireEvent.click(screen.getByRole("button", { name: "Add item" }));
    expect(await screen.findByRole("button", { name: "Remove item 1" })).toBeTruthy();
    fireEvent.change(screen.getByRole("textbox", { name: "IBAN" }), { target: { value: "DE89370400440532013000" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Name" }), { target: { value: "Ada" } });
    fireEvent.click(screen.getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(onSubmit).toHaveBeenCalled());
    expect(onSubmit.mock.calls[0][0]).toEqual({ iban: "DE89370400440532013000", contacts: [{ name: "Ada" }] });
  });
});
