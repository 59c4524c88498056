// The book's MathJax loader: Sphinx's `mathjax_path` points here (book/_ext/book_assets.py), so only pages
// with maths get it. MathJax 3 (tex-chtml.js, 1.2 MB) is fetched right away but run, and the maths typeset,
// only after the page's first paint, so the text shows first. The configuration Sphinx writes into the
// page (`window.MathJax = {...}`) is read by MathJax when it starts, as before.
(function () {
  "use strict";
  var src = new URL("../mathjax/tex-chtml.js", document.currentScript.src).href;
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
    script.id = "MathJax-script";
    document.head.appendChild(script);
  }
  requestAnimationFrame(function () {
    setTimeout(load, 0);
  });
  setTimeout(load, 1000);
})();
