// The sign-in form tells Docket the browser's time zone, which becomes the person's own on their
// first sign-in (they can change it on their profile). Without this script, the app's default.
(function () {
  "use strict";

  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  document.querySelectorAll("input[data-browser-time-zone]").forEach(function (input) {
    input.value = zone;
  });
})();
