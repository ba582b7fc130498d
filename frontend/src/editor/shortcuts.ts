/**
 * The editor's keyboard shortcuts: undo and redo (Ctrl+Z, Ctrl+Shift+Z, Ctrl+Y), save (Ctrl+S),
 * copy, paste and duplicate (Ctrl+C, Ctrl+V, Ctrl+D) and Delete. They work wherever focus is in
 * the editor, and when it fell back to the page (after the focused step was deleted, say); not
 * in dialogs, and copy, paste and Delete belong to a text field while one has focus.
 */
import { useEffect, useRef } from "react";

import { isEditing, useEditor } from "./store";

function isTyping(target: HTMLElement): boolean {
  return target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable;
}

export function useShortcuts(save: () => void): void {
  const saveRef = useRef(save);
  saveRef.current = save;
  useEffect(() => {
    const listener = (event: KeyboardEvent) => {
      const state = useEditor.getState();
      const target = event.target as HTMLElement;
      const inEditor = target === document.body || !!target.closest?.("[data-editor]");
      if (!isEditing(state) || !inEditor || target.closest?.("[role=dialog], [role=alertdialog]")) return;
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      if (mod && key === "z") {
        event.preventDefault();
        if (event.shiftKey) state.redo();
        else state.undo();
      } else if (mod && key === "y") {
        event.preventDefault();
        state.redo();
      } else if (mod && key === "s") {
        event.preventDefault();
        saveRef.current();
      } else if (isTyping(target)) {
        return;
      } else if (mod && key === "d") {
        event.preventDefault();
        state.duplicate();
      } else if (mod && key === "c") {
        state.copy();
      } else if (mod && key === "v") {
        event.preventDefault();
        state.paste();
      } else if (key === "delete" || key === "backspace") {
        event.preventDefault();
        state.deleteSelected();
      }
    };
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);
}
