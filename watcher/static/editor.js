/* watcher editor: keyboard shortcuts and the details panel of the queue. Everything also
 * works without this file (plain links and forms).
 *
 *   j / k  next / previous card (the first card is current from the start)
 *   x      select the card (for the bulk buttons)     a  approve the card
 *   r      reject the card                            o  open the full-resolution file
 *   e, Enter  open the card's page                    ?  help    Esc  close help
 *   c      compare the selected cards (2 to 4) side by side
 *   A      on a sequence's card: approve its new frames as one animation
 *
 * The details panel shows the current card's details, or the hovered card's while the
 * pointer is over one. Shortcuts rest while typing in a field and whenever Ctrl, Alt or
 * Meta is held. No inline scripts anywhere (the CSP allows scripts from this site only).
 */
(function () {
  "use strict";

  var FOCUS_KEY = "watcher.queue.focus";
  var current = -1;

  function cards() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-card]"));
  }

  function help() {
    return document.querySelector("[data-help]");
  }

  function currentCard() {
    var all = cards();
    return current >= 0 && current < all.length ? all[current] : null;
  }

  /* The panel shows a copy of the card's own (hidden) details. */
  function showDetails(card) {
    var panel = document.querySelector("[data-details-panel]");
    var details = card ? card.querySelector("[data-details]") : null;
    if (!panel || !details) {
      return;
    }
    var copy = details.cloneNode(true);
    copy.hidden = false;
    panel.replaceChildren(copy);
  }

  function markCurrent(index) {
    cards().forEach(function (card, i) {
      card.classList.toggle("is-current", i === index);
    });
    current = index;
    showDetails(currentCard());
  }

  function toggleHelp(open) {
    var overlay = help();
    if (!overlay) {
      return;
    }
    var show = typeof open === "boolean" ? open : !overlay.classList.contains("is-open");
    overlay.classList.toggle("is-open", show);
    if (show) {
      var button = overlay.querySelector("button");
      if (button) {
        button.focus();
      }
    } else if (currentCard()) {
      currentCard().focus({ preventScroll: true });
    }
  }

  function focusCard(index) {
    var all = cards();
    if (!all.length) {
      return null;
    }
    index = Math.max(0, Math.min(index, all.length - 1));
    markCurrent(index);
    var card = all[index];
    card.setAttribute("tabindex", "-1");
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest", behavior: "auto" });
    return card;
  }

  function submitCard(card, action) {
    var form = card.querySelector('form[data-action="' + action + '"]');
    if (!form) {
      return;
    }
    try {
      window.sessionStorage.setItem(FOCUS_KEY, String(current));
    } catch (ignored) {
      /* private mode: focus simply starts again at the top */
    }
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  /* The bulk form sends the ids in the order they were ticked ("as selected"). */
  var picked = [];

  function selectionChanged(box) {
    var id = box.value.split(":")[0];
    picked = picked.filter(function (value) {
      return value !== id;
    });
    if (box.checked) {
      picked.push(id);
    }
    var order = document.querySelector("[data-selection-order]");
    if (order) {
      order.value = picked.join(",");
    }
    var count = document.querySelector("[data-selected-count]");
    if (count) {
      count.textContent = picked.length
        ? picked.length + (picked.length === 1 ? " candidate selected." : " candidates selected.")
        : "Tick cards (or press x) to select them.";
    }
    var bar = document.querySelector("[data-bulk]");
    if (bar) {
      bar.classList.toggle("has-selection", picked.length > 0);
    }
    var card = box.closest("[data-card]");
    if (card) {
      card.classList.toggle("is-selected", box.checked);
    }
    compareReady();
  }

  /* Compare takes 2 to 4 selected cards: the button waits for them; c says what is missing. */
  var COMPARE_MIN = 2;
  var COMPARE_MAX = 4;

  function compareReady() {
    var button = document.querySelector("[data-compare-button]");
    if (button) {
      button.disabled = picked.length < COMPARE_MIN || picked.length > COMPARE_MAX;
    }
  }

  function compareSelected() {
    if (picked.length < COMPARE_MIN || picked.length > COMPARE_MAX) {
      var count = document.querySelector("[data-selected-count]");
      if (count) {
        count.textContent =
          "Select 2 to 4 cards (x) to compare them; " + picked.length + " selected.";
      }
      return;
    }
    var next = document.querySelector("[data-bulk] input[name=next]");
    var url = "/editor/compare?ids=" + picked.join(",");
    if (next && next.value) {
      url += "&next=" + encodeURIComponent(next.value);
    }
    window.location.assign(url);
  }

  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    if (target.isContentEditable) {
      return true;
    }
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") {
      return true;
    }
    if (tag === "INPUT") {
      var type = (target.getAttribute("type") || "text").toLowerCase();
      return ["checkbox", "radio", "button", "submit", "reset"].indexOf(type) < 0;
    }
    return false;
  }

  function openPage(card) {
    if (card && card.dataset.href) {
      window.location.assign(card.dataset.href);
    }
  }

  /* One key on the current card; false when the key is not a shortcut. */
  function act(key, card, target) {
    switch (key) {
      case "j":
        focusCard(current + 1);
        return true;
      case "k":
        focusCard(current < 0 ? 0 : current - 1);
        return true;
      case "a":
        submitCard(card, "approve");
        return true;
      case "A":
        submitCard(card, "animate");
        return true;
      case "r":
        submitCard(card, "reject");
        return true;
      case "o":
        if (card.dataset.full) {
          window.open(card.dataset.full, "_blank", "noopener,noreferrer");
        }
        return true;
      case "e":
        openPage(card);
        return true;
      case "Enter":
        /* Enter on a link or a button does what it does; on the card (or the page), opens. */
        if (target === card || target === document.body) {
          openPage(card);
          return true;
        }
        return false;
      case "c":
        compareSelected();
        return true;
      case "x":
        var box = card.querySelector("[data-select]");
        if (box) {
          box.checked = !box.checked;
          selectionChanged(box);
        }
        return true;
      default:
        return false;
    }
  }

  function onKey(event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) {
      return;
    }
    if (typing(event.target)) {
      return;
    }
    var overlay = help();
    if (event.key === "?") {
      if (overlay) {
        event.preventDefault();
        toggleHelp();
      }
      return;
    }
    if (event.key === "Escape") {
      if (overlay && overlay.classList.contains("is-open")) {
        event.preventDefault();
        toggleHelp(false);
      }
      return;
    }
    if (!cards().length || (overlay && overlay.classList.contains("is-open"))) {
      return;
    }
    if (current < 0) {
      markCurrent(0);
    }
    if (act(event.key, currentCard(), event.target)) {
      event.preventDefault();
    }
  }

  /* A sequence's preview that cannot be made (a frame missing, say) gives way to the still. */
  function watchPreviews() {
    document.addEventListener(
      "error",
      function (event) {
        var img = event.target;
        if (img && img.matches && img.matches("[data-sequence-preview]")) {
          var still = img.getAttribute("data-still");
          if (still && img.getAttribute("src") !== still) {
            img.setAttribute("src", still);
          }
        }
      },
      true
    );
  }

  function watchCards() {
    /* Focus inside a card (a click, Tab) makes it the current one, so the keys act on it. */
    document.addEventListener("focusin", function (event) {
      var card = event.target && event.target.closest ? event.target.closest("[data-card]") : null;
      if (card) {
        var index = cards().indexOf(card);
        if (index >= 0 && index !== current) {
          markCurrent(index);
        }
      }
    });
    var grid = document.querySelector(".cards");
    if (!grid) {
      return;
    }
    grid.addEventListener("mouseover", function (event) {
      var card = event.target.closest ? event.target.closest("[data-card]") : null;
      if (card) {
        showDetails(card);
      }
    });
    grid.addEventListener("mouseleave", function () {
      showDetails(currentCard());
    });
  }

  function start() {
    document.addEventListener("keydown", onKey);
    Array.prototype.forEach.call(document.querySelectorAll("[data-help-toggle]"), function (b) {
      b.addEventListener("click", function () {
        toggleHelp();
      });
    });
    var overlay = help();
    if (overlay) {
      overlay.addEventListener("click", function (event) {
        if (event.target === overlay) {
          toggleHelp(false);
        }
      });
    }
    document.addEventListener("change", function (event) {
      if (event.target && event.target.matches && event.target.matches("[data-select]")) {
        selectionChanged(event.target);
      }
    });
    watchCards();
    watchPreviews();
    /* Back from a quick decision: carry on at the same place in the grid; else the first
     * card is current, so the keys work from the first screen. */
    var saved = null;
    try {
      saved = window.sessionStorage.getItem(FOCUS_KEY);
      window.sessionStorage.removeItem(FOCUS_KEY);
    } catch (ignored) {
      saved = null;
    }
    if (saved !== null && cards().length) {
      focusCard(parseInt(saved, 10) || 0);
    } else if (cards().length) {
      markCurrent(0);
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-select]"), function (box) {
      if (box.checked) {
        selectionChanged(box);
      }
    });
    compareReady();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
