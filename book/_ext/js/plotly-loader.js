// The book's plotly.js loader, on pages that have a plotly figure (book/_ext/book_assets.py adds it).
// plotly.js (4.8 MB) is fetched right away but run only after the page's first paint, so the text shows
// first; each figure's inline script (lessons_lib.notebook.viz.BookRenderer) waits for the
// "lessons:plotly" event that this sends once window.Plotly exists.
(function () {
  "use strict";
  var src = new URL("../plotly/plotly.min.js", document.currentScript.src).href;
  var hint = document.createElement("link");
  hint.rel = "preload";
  hint.as = "script";
  hint.href = src;
  document.head.appendChild(hint);

  var started = false;
  function load() {
    if (started) return;
    started = true;
    var script = document.createElement("script");
    script.src = src;
    script.onload = function () {
      window.dispatchEvent(new Event("lessons:plotly"));
    };
    document.head.appendChild(script);
  }
  // After the next frame is painted (a task queued from requestAnimationFrame runs after that frame);
  // the timer is the fallback for a hidden tab, where animation frames do not run.
  requestAnimationFrame(function () {
    setTimeout(load, 0);
  });
  setTimeout(load, 1000);
})();
