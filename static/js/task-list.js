// The task list's poll, at a slower pace while the page's stream is open: the stream says when
// to refresh, and the poll only catches what a lost message missed. While the stream is closed
// (failing, or reconnecting) the poll keeps its own pace. Without this script the list polls at
// its own pace all the time.
(function () {
  "use strict";

  const POLL_SECONDS_WHILE_STREAMED = 30;
  let streamOpen = false;
  let lastAsked = 0;

  document.addEventListener("htmx:sseOpen", function () {
    streamOpen = true;
  });
  document.addEventListener("htmx:sseError", function () {
    streamOpen = false;
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt.id !== "poller") return;
    const polled = !event.detail.requestConfig.triggeringEvent; // not sent for a stream's event
    if (polled && streamOpen && Date.now() - lastAsked < POLL_SECONDS_WHILE_STREAMED * 1000) {
      event.preventDefault();
      return;
    }
    lastAsked = Date.now();
  });
})();

// The tab's title carries the open count, "(12) My tasks · Docket", kept up to date when the list
// is redrawn (filters, live updates, completions): the count travels in #open-total.
(function () {
  "use strict";

  function retitle() {
    const total = document.getElementById("open-total");
    if (!total || total.dataset.count === undefined) return;
    document.title = "(" + total.dataset.count + ") " + document.title.replace(/^\(\d+\) /, "");
  }
  document.addEventListener("htmx:afterSettle", retitle);
  document.addEventListener("htmx:oobAfterSwap", retitle);
})();
