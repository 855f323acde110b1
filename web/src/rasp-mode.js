// RASP syntax highlighting for CodeMirror 6: a small stream tokenizer.
// Comment lines start with `#` (the reference's reader drops them whole);
// strings use double or single quotes; the rest is keywords, the built-in
// s-ops and functions, library names, numbers and operators.
import { HighlightStyle, StreamLanguage, syntaxHighlighting } from "@codemirror/language";
import { tags } from "@lezer/highlight";

const KEYWORDS = new Set([
  "def", "return", "for", "in", "if", "else", "and", "or", "not", "load", "draw",
]);
const ATOMS = new Set(["True", "False"]);
// The language's primitives and the input s-ops.
const BUILTINS = new Set([
  "select", "aggregate", "tokens", "indices", "indicator", "round", "range", "zip", "len",
  "tokens_str", "tokens_int", "tokens_float", "tokens_bool", "tokens_asis",
]);
// The library loaded into every session.
const LIBRARY = new Set([
  "length", "selector_width", "count", "sort", "shift", "has_focus", "contains", "max", "min",
  "average", "load_from_location", "mark_first_instance", "mark_last_instance",
  "select_from_first", "select_from_last", "select_next_identical", "full_s",
]);

function tokenString(quote) {
  return (stream, state) => {
    let escaped = false;
    let ch;
    while ((ch = stream.next()) != null) {
      if (ch === quote && !escaped) {
        state.inString = null;
        return "string";
      }
      escaped = !escaped && ch === "\\";
    }
    // RASP strings end on their line; an unfinished one stops here.
    state.inString = null;
    return "string";
  };
}

export const raspLanguage = StreamLanguage.define({
  name: "rasp",
  startState: () => ({ inString: null, afterDef: false }),
  token(stream, state) {
    if (state.inString) return state.inString(stream, state);
    if (stream.sol()) {
      stream.eatSpace();
      if (stream.peek() === "#") {
        stream.skipToEnd();
        return "comment";
      }
    }
    if (stream.eatSpace()) return null;
    const ch = stream.peek();
    if (ch === '"' || ch === "'") {
      stream.next();
      state.inString = tokenString(ch);
      return state.inString(stream, state);
    }
    if (stream.match(/^\d+\.\d*|^\.\d+|^\d+/)) return "number";
    if (stream.match(/^[A-Za-z_][A-Za-z0-9_]*/)) {
      const word = stream.current();
      if (state.afterDef) {
        state.afterDef = false;
        return "def";
      }
      if (word === "def") {
        state.afterDef = true;
        return "keyword";
      }
      if (KEYWORDS.has(word)) return "keyword";
      if (ATOMS.has(word)) return "atom";
      if (BUILTINS.has(word)) return "builtin";
      if (LIBRARY.has(word)) return "variableName.function.standard";
      return "variableName";
    }
    if (stream.match(/^(==|!=|<=|>=|[-+*\/%<>=])/)) return "operator";
    if (stream.match(/^[()[\]{}]/)) return "bracket";
    stream.next();
    return "punctuation";
  },
  languageData: { commentTokens: { line: "#" } },
});

// Colours for the tokens above (readable on white, distinct without colour
// too: keywords bold, comments italic).
export const raspHighlighting = syntaxHighlighting(
  HighlightStyle.define([
    { tag: tags.comment, color: "#6a737d", fontStyle: "italic" },
    { tag: tags.keyword, color: "#8250df", fontWeight: "bold" },
    { tag: tags.string, color: "#0a7a3b" },
    { tag: tags.number, color: "#b35900" },
    { tag: tags.atom, color: "#b35900" },
    { tag: tags.definition(tags.variableName), color: "#1f2328", fontWeight: "bold" },
    { tag: tags.function(tags.standard(tags.variableName)), color: "#0550ae" },
    { tag: tags.standard(tags.variableName), color: "#0e7490", fontWeight: "bold" },
    { tag: tags.operator, color: "#953800" },
  ]),
);
