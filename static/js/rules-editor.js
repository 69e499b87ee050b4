// The rulebook editor's line numbers: keep the gutter, the problem notes beside it and the
// textarea's height in step with the text as it is edited. Without this script the page works the
// same; only the numbers wait for the next Check.
(function () {
  "use strict";

  function lineCount(textarea) {
    return textarea.value.split("\n").length;
  }

  function resizeList(list, count, make) {
    while (list.children.length < count) list.appendChild(make(list.children.length + 1));
    while (list.children.length > count) list.removeChild(list.lastElementChild);
  }

  function sync(editor) {
    const textarea = editor.querySelector("textarea");
    const gutter = document.getElementById("rules-gutter");
    const notes = document.getElementById("rules-notes");
    const count = lineCount(textarea);
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
    const start = textarea.selectionStart;
    textarea.setRangeText("  ", start, textarea.selectionEnd, "end");
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function init() {
    const editor = document.querySelector("[data-rules-editor]");
    if (!editor) return;
    const textarea = editor.querySelector("textarea");
    textarea.addEventListener("input", function () {
      editor.classList.add("is-edited");
      sync(editor);
    });
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Escape") textarea.dataset.tabExits = "1";
      else if (event.key !== "Tab") delete textarea.dataset.tabExits;
      indentOnTab(event);
    });
    // A Check swaps in fresh margins: they describe the text as it is now.
    document.body.addEventListener("htmx:afterSettle", function () {
      editor.classList.remove("is-edited");
      sync(editor);
    });
    sync(editor);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
