// The rulebook editor. With CodeMirror (static/vendor/codemirror.js, bundled by `make setup`) the
// textarea becomes a YAML editor whose text is copied back into the textarea on every change, so
// the form, htmx and a reload post the same field; the problems the server reports (line:column)
// become lint marks at their place. Without CodeMirror the textarea keeps its line numbers and the
// problem notes beside them in step as it is edited. Without JavaScript the page works the same;
// only the numbers wait for the next Check.
(function () {
  "use strict";

  function resizeList(list, count, make) {
    while (list.children.length < count) list.appendChild(make(list.children.length + 1));
    while (list.children.length > count) list.removeChild(list.lastElementChild);
  }

  function syncMargins(textarea) {
    const gutter = document.getElementById("rules-gutter");
    const notes = document.getElementById("rules-notes");
    const count = textarea.value.split("\n").length;
    textarea.rows = count + 1;
    if (gutter) {
      resizeList(gutter, count, function (n) {
        const li = document.createElement("li");
        li.id = "line-" + n;
        li.textContent = String(n);
        return li;
      });
    }
    if (notes) {
      resizeList(notes, count, function () {
        const li = document.createElement("li");
        li.setAttribute("aria-hidden", "true");
        return li;
      });
    }
  }

  function indentOnTab(event) {
    // Tab inserts two spaces (YAML's indentation); Escape then Tab leaves the field as usual.
    if (event.key !== "Tab" || event.shiftKey || event.target.dataset.tabExits === "1") return;
    event.preventDefault();
    const textarea = event.target;
    textarea.setRangeText("  ", textarea.selectionStart, textarea.selectionEnd, "end");
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function plainTextarea(editor, textarea) {
    textarea.addEventListener("input", function () {
      editor.classList.add("is-edited");
      syncMargins(textarea);
    });
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Escape") textarea.dataset.tabExits = "1";
      else if (event.key !== "Tab") delete textarea.dataset.tabExits;
      indentOnTab(event);
    });
    // A Check swaps in fresh margins: they describe the text as it is now.
    document.body.addEventListener("htmx:afterSettle", function () {
      editor.classList.remove("is-edited");
      syncMargins(textarea);
    });
    syncMargins(textarea);
  }

  // The offset of line:column (both from 1) in the document, and the end of the word there.
  function problemRange(doc, lineNumber, column) {
    const line = doc.line(Math.min(Math.max(lineNumber, 1), doc.lines));
    const from = line.from + Math.min(Math.max(column - 1, 0), line.length);
    const rest = line.text.slice(from - line.from);
    const word = rest.match(/^\S*/)[0].length || rest.trimEnd().length;
    return { from: from, to: from + word };
  }

  // The problems of the report on the page (after a load or a Check), as lint diagnostics.
  function reportedDiagnostics(doc) {
    const items = document.querySelectorAll("#rules-report .problems li[data-line]");
    return Array.prototype.map.call(items, function (item) {
      const range = problemRange(doc, Number(item.dataset.line), Number(item.dataset.column || 1));
      return { from: range.from, to: range.to, severity: "error", message: item.dataset.message };
    });
  }

  // CodeMirror's look, in the app's colours. It lives in the editor's shadow root: there CodeMirror
  // styles itself with constructed style sheets, which the page's strict CSP (no inline <style>)
  // allows, and the page's own CSS does not reach.
  function theme(CM) {
    return CM.EditorView.theme({
      "&": { fontSize: ".85rem", backgroundColor: "#ffffff", color: "#1f2a28" },
      "&.cm-focused": { outline: "3px solid #1f6feb", outlineOffset: "-3px" },
      ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace", lineHeight: "1.5rem" },
      ".cm-gutters": { backgroundColor: "#f1f0ea", color: "#5f6b68", borderRight: "1px solid #e2e0d8" },
      ".cm-activeLineGutter": { backgroundColor: "#e3eee9", color: "#1f2a28" },
      ".cm-activeLine": { backgroundColor: "#f6f5f1" },
    });
  }

  function codeMirror(editor, textarea, CM) {
    const host = document.createElement("div");
    host.className = "rules-codemirror";
    textarea.after(host);
    const root = host.attachShadow({ mode: "open" });
    const view = new CM.EditorView({
      root: root,
      parent: root,
      doc: textarea.value,
      extensions: [
        CM.basicSetup,
        CM.keymap.of([CM.indentWithTab]),
        CM.EditorState.tabSize.of(2),
        CM.yaml(),
        CM.lintGutter(),
        // Long lines wrap: the editor never scrolls sideways, on a phone neither.
        CM.EditorView.lineWrapping,
        theme(CM),
        CM.EditorView.contentAttributes.of({ "aria-label": "Rulebook (YAML)" }),
        CM.EditorView.updateListener.of(function (update) {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          editor.classList.add("is-edited");
        }),
      ],
    });
    function showReport() {
      editor.classList.remove("is-edited");
      view.dispatch(CM.setDiagnostics(view.state, reportedDiagnostics(view.state.doc)));
    }
    // A problem's "line N:C" link puts the cursor there instead of at the hidden line number.
    document.addEventListener("click", function (event) {
      const link = event.target.closest && event.target.closest('#rules-report .problems a[href^="#line-"]');
      if (!link) return;
      event.preventDefault();
      const item = link.closest("li");
      const range = problemRange(view.state.doc, Number(item.dataset.line), Number(item.dataset.column || 1));
      view.dispatch({ selection: { anchor: range.from }, scrollIntoView: true });
      view.focus();
    });
    document.body.addEventListener("htmx:afterSettle", showReport);
    editor.classList.add("has-codemirror");
    showReport();
  }

  function init() {
    const editor = document.querySelector("[data-rules-editor]");
    if (!editor) return;
    const textarea = editor.querySelector("textarea");
    if (window.DocketCodeMirror) codeMirror(editor, textarea, window.DocketCodeMirror);
    else plainTextarea(editor, textarea);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
