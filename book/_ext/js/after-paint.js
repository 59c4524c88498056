// The book's loader for a heavy script (MathJax, plotly.js): book/_ext/book_assets.py adds one tag per
// library, naming the file in data-src (relative to this loader), optionally an id for the script element
// (data-id) and an event to send on window once it has run (data-ready). The file is fetched at once but
// run only after the page's first paint, so the text shows first.
(function () {
  "use strict";
  var me = document.currentScript;
  var src = new URL(me.getAttribute("data-src"), me.src).href;
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
    if (me.getAttribute("data-id")) script.id = me.getAttribute("data-id");
    var ready = me.getAttribute("data-ready");
    if (ready) {
      script.onload = function () {
        window.dispatchEvent(new Event(ready));
      };
    }
    document.head.appendChild(script);
  }
  // After the next frame is painted (a task queued from requestAnimationFrame runs after that frame);
  // the timer is the fallback for a hidden tab, where animation frames do not run.
  requestAnimationFrame(function () {
    setTimeout(load, 0);
  });
  setTimeout(load, 1000);
})();
