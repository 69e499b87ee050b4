// The task list by keyboard, and selecting rows for the bulk form. Keys: j/k move between rows,
// x completes, shift+x selects, u undoes, o or Enter opens, a opens "Assigned to", / goes to the
// categories, ? lists the keys. Focus stays in the list when htmx swaps its rows (after a
// completion, an undo, "Show more" or a live update). Without this script the rows' forms,
// checkboxes and links work as they are.
(function () {
  "use strict";

  const rows = () => Array.from(document.querySelectorAll("#task-rows tr.task"));
  const currentRow = () => document.activeElement && document.activeElement.closest("#task-rows tr.task");
  // Where focus goes once the rows a request asked for are swapped in: {xhr, id} of a row, else
  // {xhr, index} among the rows. Tied to its request, so a live update in between moves nothing.
  let pendingFocus = null;
  let selectionAnchor = null; // the checkbox a shift-click selects a range from

  function focusRow(row) {
    if (!row) return;
    row.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  function moveBy(step) {
    const all = rows();
    if (!all.length) return;
    const at = all.indexOf(currentRow());
    const next = at < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(Math.max(at + step, 0), all.length - 1);
    focusRow(all[next]);
  }

  function restoreFocus(event) {
    const pending = pendingFocus;
    if (!pending || pending.xhr !== event.detail.xhr) return;
    pendingFocus = null;
    applySelection();
    const active = document.activeElement;
    if (active && active !== document.body && !active.closest("#notice, #task-rows, #bulk")) return; // focus moved on
    const all = rows();
    const again = pending.id && document.getElementById(pending.id);
    const row = again || all[Math.min(Math.max(pending.index || 0, 0), all.length - 1)];
    if (row) focusRow(row);
    else if (document.getElementById("task-rows")) document.getElementById("task-rows").focus();
  }

  // Completing, undoing, bulk actions, "Show more" and live updates replace the rows: keep focus in the list.
  document.addEventListener("htmx:beforeRequest", function (event) {
    const elt = event.detail.elt;
    const xhr = event.detail.xhr;
    const row = elt.closest && elt.closest("#task-rows tr.task");
    if (row) {
      pendingFocus = { xhr, index: rows().indexOf(row) }; // the row leaves: the next one takes its place
    } else if (elt.id === "show-more") {
      pendingFocus = { xhr, index: rows().length }; // the first of the rows drawn next
    } else if (elt.closest && elt.closest("#notice")) {
      const undo = elt.querySelector("[data-focus-row]");
      if (undo) pendingFocus = { xhr, id: undo.dataset.focusRow };
    } else if (elt.id === "bulk") {
      const first = rows().find((r) => r.querySelector(".cell-select input:checked"));
      pendingFocus = { xhr, index: first ? rows().indexOf(first) : 0 };
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    // A live update (or any other swap): whatever had focus in the list has it again.
    const active = document.activeElement;
    if (event.detail.shouldSwap && !pendingFocus && active && active.id && active.closest("#task-rows")) {
      pendingFocus = { xhr: event.detail.xhr, id: active.id, index: rows().indexOf(currentRow()) };
    }
  });
  document.addEventListener("htmx:afterRequest", restoreFocus);

  // Selection: the checkboxes belong to the bulk form; shift-click selects a range, and the
  // selection outlives live updates of the rows.
  const selected = new Set();

  function applySelection() {
    const boxes = Array.from(document.querySelectorAll('#task-rows input[form="bulk"]'));
    boxes.forEach((box) => {
      box.checked = selected.has(box.value);
    });
    const all = document.getElementById("select-all");
    if (all) {
      all.hidden = false;
      all.checked = boxes.length > 0 && boxes.every((box) => box.checked);
      all.indeterminate = !all.checked && boxes.some((box) => box.checked);
    }
    const count = document.getElementById("selected-count");
    if (count) count.textContent = boxes.filter((box) => box.checked).length + " selected:";
  }

  function setSelected(box, on) {
    box.checked = on;
    if (on) selected.add(box.value);
    else selected.delete(box.value);
  }

  document.addEventListener("click", function (event) {
    const box = event.target.closest && event.target.closest('input[type="checkbox"]');
    if (!box) return;
    if (box.id === "select-all") {
      document.querySelectorAll('#task-rows input[form="bulk"]').forEach((b) => setSelected(b, box.checked));
    } else if (box.form && box.form.id === "bulk" && box.closest("#task-rows")) {
      const boxes = Array.from(document.querySelectorAll('#task-rows input[form="bulk"]'));
      if (event.shiftKey && selectionAnchor && boxes.includes(selectionAnchor)) {
        const [from, to] = [boxes.indexOf(selectionAnchor), boxes.indexOf(box)].sort((a, b) => a - b);
        boxes.slice(from, to + 1).forEach((b) => setSelected(b, box.checked));
      } else {
        setSelected(box, box.checked);
      }
      selectionAnchor = box;
    } else {
      return;
    }
    applySelection();
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt.id === "bulk") selected.clear(); // the rows come back without them
  });

  // The keys.
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function showKeys() {
    const dialog = document.getElementById("keys-help");
    if (dialog && !dialog.open) dialog.showModal();
  }

  const actions = {
    j: () => moveBy(1),
    k: () => moveBy(-1),
    x: (row) => {
      const form = row && row.querySelector(".cell-check form");
      if (form && !row.classList.contains("is-completed")) form.requestSubmit();
    },
    X: (row) => {
      const box = row && row.querySelector('.cell-select input[type="checkbox"]');
      if (box) box.click();
    },
    s: (row) => {
      // The row's Snooze menu, open, its first choice in focus (Tab goes on to the others and Dismiss).
      const menu = row && row.querySelector("details.later");
      if (!menu) return;
      menu.open = true;
      const first = menu.querySelector(".later-menu button");
      if (first) first.focus();
    },
    u: () => {
      const undo = document.querySelector("#notice .undo");
      if (undo) undo.click();
    },
    o: (row) => {
      const link = row && row.querySelector(".task-title");
      if (link) link.click();
    },
    a: () => {
      const select = document.getElementById("assignee");
      if (!select) return;
      select.focus();
      try {
        select.showPicker();
      } catch (error) {
        // Not every browser opens a picker on request; the focused select still takes arrow keys.
      }
    },
    "/": () => {
      const link = document.querySelector("#categories [aria-current]") || document.querySelector("#categories a");
      if (link) link.focus();
    },
    "?": showKeys,
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (document.querySelector("dialog[open]")) return;
    const row = currentRow();
    let action = actions[event.key];
    if (event.key === "Enter") {
      if (!row || event.target !== row) return; // Enter on a button or link does what it does
      action = actions.o;
    }
    if (!action) return;
    event.preventDefault();
    action(row);
  });

  function ready() {
    const open = document.getElementById("keys-open");
    if (open) {
      open.hidden = false;
      open.addEventListener("click", showKeys);
    }
    applySelection();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
