/**
 * The rjsf widget for config fields that hold expressions (CONTRACT §2): a CodeMirror 6 editor
 * with Jinja highlighting and completion of what the node may name (completion.ts). Loaded
 * lazily by expressionForm.tsx, so CodeMirror lives in its own chunk.
 */
import "./expression.css";

import {
  type Completion,
  type CompletionContext,
  type CompletionResult,
  autocompletion,
  closeBrackets,
  closeBracketsKeymap,
} from "@codemirror/autocomplete";
import { defaultKeymap } from "@codemirror/commands";
import { jinja } from "@codemirror/lang-jinja";
import {
  LanguageSupport,
  StreamLanguage,
  defaultHighlightStyle,
  syntaxHighlighting,
} from "@codemirror/language";
import { Annotation, Compartment, EditorState, Prec } from "@codemirror/state";
import {
  Decoration,
  type DecorationSet,
  EditorView,
  MatchDecorator,
  ViewPlugin,
  type ViewUpdate,
  keymap,
  placeholder as placeholderText,
} from "@codemirror/view";
import type { WidgetProps } from "@rjsf/utils";
import { ariaDescribedByIds } from "@rjsf/utils";
import { useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef } from "react";

import {
  type ExpressionCompletion,
  type ExpressionFieldOptions,
  type ExpressionMode,
  FILTERS,
  childrenOf,
  expressionCompletions,
  expressionStart,
  typedFilter,
  typedPath,
} from "./completion";
import { ExpressionPreview } from "./ExpressionPreview";
import { useNewestRunSample } from "./newestRun";
import { useEditor } from "./store";

const KEYWORDS = new Set(["and", "or", "not", "in", "is", "if", "else"]);
const ATOMS = new Set(["true", "false", "none", "True", "False", "None"]);

/** A bare expression has no `{{ }}` around it, which lang-jinja's parser needs; this small
 * tokenizer highlights the same words. */
const bareExpression = StreamLanguage.define<{ after: string }>({
  name: "jinja-expression",
  startState: () => ({ after: "" }),
  token(stream, state) {
    if (stream.eatSpace()) return null;
    const after = state.after;
    state.after = "";
    if (stream.match(/^(['"])(?:\\.|(?!\1)[^\\])*\1?/)) return "string";
    if (stream.match(/^\d[\d_]*(\.\d+)?([eE][+-]?\d+)?/)) return "number";
    if (stream.match(/^[A-Za-z_]\w*/)) {
      const word = stream.current();
      if (after === ".") return "propertyName";
      if (after === "|" || after === "is") return "variableName.special";
      if (KEYWORDS.has(word)) {
        state.after = word;
        return "keyword";
      }
      return ATOMS.has(word) ? "bool" : "variableName";
    }
    const ch = stream.next() ?? "";
    state.after = ch;
    return "()[]{}".includes(ch) ? "bracket" : ch === "." ? "derefOperator" : "operator";
  },
});

/** Template text outside `{{ }}` is plain: no HTML base language, whose tag closing and
 * completion would get in the way of URLs and messages. */
const plainText = new LanguageSupport(
  StreamLanguage.define({
    name: "text",
    token: (stream) => {
      stream.skipToEnd();
      return null;
    },
  }),
);

const code = Decoration.mark({ class: "cm-fd-code" });
const delimiter = Decoration.mark({ class: "cm-fd-delimiter" });

/** Tints the `{{ ... }}` and `{% ... %}` parts of a template and marks their delimiters. */
const codeRegions = new MatchDecorator({
  regexp: /\{\{[\s\S]*?(?:\}\}|$)|\{%[\s\S]*?(?:%\}|$)/g,
  decorate: (add, from, to, match) => {
    add(from, to, code);
    add(from, from + 2, delimiter);
    if (/(\}\}|%\})$/.test(match[0])) add(to - 2, to, delimiter);
  },
});

const codeRegionPlugin = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = codeRegions.createDeco(view);
    }
    update(update: ViewUpdate) {
      this.decorations = codeRegions.updateDeco(update, this.decorations);
    }
  },
  { decorations: (plugin) => plugin.decorations },
);

/** Marks a change that came from rjsf (undo, another node), which must not echo back. */
const fromOutside = Annotation.define<boolean>();

function text(value: unknown): string {
  return value === undefined || value === null ? "" : String(value);
}

/** The completion source: names under the dotted path being typed, or filters after a `|`. */
function completionSource(mode: ExpressionMode, names: () => ExpressionCompletion[]) {
  return (context: CompletionContext): CompletionResult | null => {
    const before = context.state.sliceDoc(0, context.pos);
    const start = expressionStart(before, mode);
    if (start === null) return null;
    const expression = before.slice(start);
    const filter = typedFilter(expression);
    if (filter !== null) {
      if (!filter && !context.explicit) return null;
      return {
        from: context.pos - filter.length,
        options: FILTERS.map((label) => ({ label, type: "function", detail: " filter" })),
        validFor: /^\w*$/,
      };
    }
    const path = typedPath(expression);
    // A bare position (after a space or an operator) only completes when asked: Ctrl+Space.
    if (!path || (!path.parent && !path.partial && !context.explicit)) return null;
    const options: Completion[] = childrenOf(names(), path.parent).map((name) => ({
      label: name.label.slice(path.parent ? path.parent.length + 1 : 0),
      // The space makes an option's accessible name "amount number", not "amountnumber".
      detail: ` ${name.detail}`,
      info: name.info,
      type: name.type,
    }));
    return options.length ? { from: context.pos - path.partial.length, options, validFor: /^\w*$/ } : null;
  };
}

/** The aria attributes of the editable element: named by the field's label (STYLE 20). */
function contentAttributes(props: WidgetProps, multiline: boolean): Record<string, string> {
  const attributes: Record<string, string> = {
    id: props.id,
    "aria-label": props.label || props.name,
    "aria-describedby": ariaDescribedByIds(props.id),
    "aria-multiline": String(multiline),
  };
  if (props.required) attributes["aria-required"] = "true";
  if (props.rawErrors?.length) attributes["aria-invalid"] = "true";
  return attributes;
}

/** rjsf's widget props, and whether to take the focus when built (from expressionForm's textarea
 * stand-in, which had it while this chunk loaded). */
export default function ExpressionWidget(props: WidgetProps & { focusOnMount?: { current: boolean } }) {
  const { id, value, onChange, onBlur, onFocus, readonly, disabled, placeholder } = props;
  const options = props.options as Partial<ExpressionFieldOptions> & { emptyValue?: unknown };
  const mode: ExpressionMode = options.mode ?? "template";
  const multiline = options.multiline ?? true;
  const nodeId = String(props.registry.formContext?.nodeId ?? "");

  // Selectors on the store: the graph and catalog change identity only when they are edited.
  // Deferred: completing names is worked out after the canvas has drawn an edit.
  const graph = useDeferredValue(useEditor((s) => s.graph));
  const catalog = useEditor((s) => s.catalog);
  const sample = useNewestRunSample(useEditor((s) => s.meta.id));
  const names = useMemo(
    () => expressionCompletions(graph, nodeId, catalog, { items: !!options.items, sample }),
    [graph, nodeId, catalog, options.items, sample],
  );

  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const attributes = useRef(new Compartment());
  const editable = useRef(new Compartment());
  // The editor is built once; this ref lets its callbacks see the latest props.
  const latest = useRef({ names, onChange, onBlur, onFocus, emptyValue: options.emptyValue, id });
  useLayoutEffect(() => {
    latest.current = { names, onChange, onBlur, onFocus, emptyValue: options.emptyValue, id };
  });

  useEffect(() => {
    const readOnly = !!(readonly || disabled);
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: text(value),
        extensions: [
          mode === "template" ? [jinja({ base: plainText }), codeRegionPlugin] : bareExpression,
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          closeBrackets(),
          autocompletion({
            override: [completionSource(mode, () => latest.current.names)],
            icons: false,
          }),
          // Tab is not bound: it moves focus on, as in any other field. Undo is the designer's
          // (Ctrl+Z undoes the graph edit this typing made), so there is no editor history.
          keymap.of([...closeBracketsKeymap, ...defaultKeymap]),
          multiline ? [] : Prec.high(keymap.of([{ key: "Enter", run: () => true }])),
          EditorView.lineWrapping,
          placeholder ? placeholderText(placeholder) : [],
          attributes.current.of(EditorView.contentAttributes.of(contentAttributes(props, multiline))),
          editable.current.of([EditorView.editable.of(!readOnly), EditorState.readOnly.of(readOnly)]),
          EditorView.updateListener.of((update) => {
            if (!update.docChanged || update.transactions.some((tr) => tr.annotation(fromOutside))) return;
            const next = update.state.doc.toString();
            latest.current.onChange(next === "" ? latest.current.emptyValue : next);
          }),
          EditorView.domEventHandlers({
            focus: (_event, v) => latest.current.onFocus(latest.current.id, v.state.doc.toString()),
            blur: (_event, v) => latest.current.onBlur(latest.current.id, v.state.doc.toString()),
          }),
        ],
      }),
    });
    view.current = editor;
    if (props.autofocus || props.focusOnMount?.current) {
      editor.focus();
      editor.dispatch({ selection: { anchor: editor.state.doc.length } });
    }
    return () => {
      editor.destroy();
      view.current = null;
    };
    // Built once per mount (the form is keyed by node); later props reach it through the
    // effects below and the `latest` ref.
  }, []);

  // rjsf's value changed from outside (undo, redo): replace only what differs, so the cursor
  // stays where the user left it.
  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const current = editor.state.doc.toString();
    const next = text(value);
    if (current === next) return;
    let start = 0;
    while (start < current.length && start < next.length && current[start] === next[start]) start++;
    let end = 0;
    while (
      end < current.length - start &&
      end < next.length - start &&
      current[current.length - 1 - end] === next[next.length - 1 - end]
    ) {
      end++;
    }
    editor.dispatch({
      changes: { from: start, to: current.length - end, insert: next.slice(start, next.length - end) },
      annotations: fromOutside.of(true),
    });
  }, [value]);

  const label = props.label || props.name;
  const invalid = !!props.rawErrors?.length;
  useEffect(() => {
    view.current?.dispatch({
      effects: attributes.current.reconfigure(EditorView.contentAttributes.of(contentAttributes(props, multiline))),
    });
    // props is read for id, label, required and errors: the values listed here.
  }, [id, label, props.required, invalid, multiline]);

  useEffect(() => {
    const readOnly = !!(readonly || disabled);
    view.current?.dispatch({
      effects: editable.current.reconfigure([EditorView.editable.of(!readOnly), EditorState.readOnly.of(readOnly)]),
    });
  }, [readonly, disabled]);

  return (
    <>
      <div ref={host} className="expression-field" data-mode={mode} data-invalid={invalid || undefined} />
      <ExpressionPreview source={text(value)} mode={mode} items={!!options.items} label={String(label)} />
    </>
  );
}
