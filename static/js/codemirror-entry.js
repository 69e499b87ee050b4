// The parts of CodeMirror 6 the rulebook editor uses, bundled by `make setup` (esbuild) into
// static/vendor/codemirror.js as one classic script that sets window.DocketCodeMirror. The editor
// itself is static/js/rules-editor.js; without this bundle it keeps the plain textarea.
export { EditorView, basicSetup } from "codemirror";
export { EditorState } from "@codemirror/state";
export { keymap } from "@codemirror/view";
export { indentWithTab } from "@codemirror/commands";
export { yaml } from "@codemirror/lang-yaml";
export { lintGutter, setDiagnostics } from "@codemirror/lint";
