/* watcher editor: the compare page's keys and its synced zoom. Everything also works
 * without this file (plain links and forms).
 *
 *   1-4  pick that frame        a  approve the picked frame    r  reject it
 *   b, Esc  back to the queue (Esc first zooms out)
 *   click a picture: zoom every picture to that place (again: out)
 *
 * Keys rest while typing in a field and whenever Ctrl, Alt or Meta is held.
 */
(function () {
  "use strict";

  function frames() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-frame]"));
  }

  function picked() {
    return document.querySelector("[data-frame].is-current") || frames()[0] || null;
  }

  function pick(index) {
    var all = frames();
    if (index < 0 || index >= all.length) {
      return;
    }
    all.forEach(function (frame, i) {
      frame.classList.toggle("is-current", i === index);
    });
    all[index].focus({ preventScroll: true });
  }

  function submit(frame, action) {
    var form = frame ? frame.querySelector('form[data-action="' + action + '"]') : null;
    if (!form) {
      return;
    }
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function zoomed() {
    return document.querySelector("[data-compare].is-zoomed");
  }

  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName;
    return target.isContentEditable || tag === "TEXTAREA" || tag === "SELECT" || tag === "INPUT";
  }

  function onKey(event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) {
      return;
    }
    if (typing(event.target)) {
      return;
    }
    var key = event.key;
    if (key >= "1" && key <= "4") {
      pick(parseInt(key, 10) - 1);
    } else if (key === "a") {
      submit(picked(), "approve");
    } else if (key === "r") {
      submit(picked(), "reject");
    } else if (key === "Escape" && zoomed()) {
      zoomed().classList.remove("is-zoomed");
    } else if (key === "b" || key === "Escape") {
      var back = document.querySelector("[data-back]");
      if (!back) {
        return;
      }
      window.location.assign(back.getAttribute("href"));
    } else {
      return;
    }
    event.preventDefault();
  }

  /* One zoom for all: the clicked place, as a share of its box, is every picture's centre. */
  function onZoom(event) {
    var box = event.target.closest ? event.target.closest("[data-zoom]") : null;
    var row = document.querySelector("[data-compare]");
    if (!box || !row) {
      return;
    }
    var frame = box.closest("[data-frame]");
    if (frame) {
      pick(frames().indexOf(frame));
    }
    if (row.classList.contains("is-zoomed")) {
      row.classList.remove("is-zoomed");
      return;
    }
    var rect = box.getBoundingClientRect();
    var x = ((event.clientX - rect.left) / rect.width) * 100;
    var y = ((event.clientY - rect.top) / rect.height) * 100;
    Array.prototype.forEach.call(row.querySelectorAll("[data-zoom] img"), function (img) {
      img.style.transformOrigin = x.toFixed(1) + "% " + y.toFixed(1) + "%";
    });
    row.classList.add("is-zoomed");
  }

  function start() {
    document.addEventListener("keydown", onKey);
    document.addEventListener("click", onZoom);
    document.addEventListener("focusin", function (event) {
      var frame = event.target.closest ? event.target.closest("[data-frame]") : null;
      if (frame) {
        frames().forEach(function (f) {
          f.classList.toggle("is-current", f === frame);
        });
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
