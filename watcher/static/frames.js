/* watcher editor: an entry's frames, arranged by hand. Without this file the entry page
 * keeps its text field of candidate ids, and saving works the same.
 *
 * The server renders one tile per frame (hidden until this file shows them, hiding the
 * text field); every change writes the ids back into that field, which the form submits.
 *
 *   drag a tile (mouse, pen or touch on its picture)     move it
 *   ← / →  (or ↑ / ↓)     focus the previous / next frame     Home / End  first / last
 *   Alt+← / Alt+→  (or [ and ])     move the focused frame earlier / later
 *   Delete / Backspace     drop the focused frame
 *
 * Every change is announced in a polite live region. No inline scripts anywhere (the CSP
 * allows scripts from this site only).
 */
(function () {
  "use strict";

  var DRAG_START_PX = 6;

  function start() {
    var editor = document.querySelector("[data-frames-editor]");
    if (!editor) {
      return;
    }
    var form = editor.closest("form");
    var field = form && form.querySelector("input[name=frames]");
    var list = editor.querySelector("[data-frame-list]");
    var status = editor.querySelector("[data-frames-status]");
    var box = document.querySelector("[data-frames-field]");
    if (!field || !list || !status || !box) {
      return;
    }
    box.classList.add("is-enhanced");
    editor.hidden = false;

    function tiles() {
      return Array.prototype.slice.call(list.querySelectorAll("[data-frame]"));
    }

    function announce(text) {
      status.textContent = text;
    }

    function refresh() {
      var all = tiles();
      all.forEach(function (tile, i) {
        var still = i === 0;
        tile.classList.toggle("is-still", still);
        tile.setAttribute(
          "aria-label",
          "Frame " + (i + 1) + " of " + all.length + (still ? ", the still" : "") + ": " +
            tile.dataset.label
        );
        setDisabled(tile, "first", still);
        setDisabled(tile, "earlier", still);
        setDisabled(tile, "later", i === all.length - 1);
        setDisabled(tile, "drop", all.length < 2);
      });
    }

    function setDisabled(tile, action, disabled) {
      var button = tile.querySelector('[data-frame-action="' + action + '"]');
      if (button) {
        button.disabled = disabled;
      }
    }

    function changed() {
      field.value = tiles()
        .map(function (tile) {
          return tile.dataset.id;
        })
        .join(", ");
      refresh();
    }

    function where(tile) {
      var all = tiles();
      var index = all.indexOf(tile);
      return index === 0
        ? "now the still (frame 1 of " + all.length + ")"
        : "now frame " + (index + 1) + " of " + all.length;
    }

    function moveTo(tile, index) {
      var all = tiles();
      var from = all.indexOf(tile);
      index = Math.max(0, Math.min(index, all.length - 1));
      if (from < 0 || index === from) {
        return false;
      }
      var others = all.filter(function (other) {
        return other !== tile;
      });
      if (index >= others.length) {
        list.appendChild(tile);
      } else {
        list.insertBefore(tile, others[index]);
      }
      changed();
      announce("Frame #" + tile.dataset.id + " is " + where(tile) + ".");
      return true;
    }

    function drop(tile) {
      var all = tiles();
      if (all.length < 2) {
        announce("An entry keeps at least one frame.");
        return;
      }
      var index = all.indexOf(tile);
      var next = all[index + 1] || all[index - 1];
      tile.remove();
      changed();
      announce(
        "Dropped frame #" + tile.dataset.id + "; " + (all.length - 1) + " left. " +
          "It goes back to the queue when you save."
      );
      next.focus();
    }

    function act(tile, action) {
      var index = tiles().indexOf(tile);
      if (action === "first") {
        moveTo(tile, 0);
      } else if (action === "earlier") {
        moveTo(tile, index - 1);
      } else if (action === "later") {
        moveTo(tile, index + 1);
      } else if (action === "drop") {
        drop(tile);
      }
    }

    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-frame-action]");
      if (!button) {
        return;
      }
      var tile = button.closest("[data-frame]");
      act(tile, button.dataset.frameAction);
      if (tile.isConnected && (button.disabled || !tile.contains(document.activeElement))) {
        tile.focus();
      }
    });

    list.addEventListener("keydown", function (event) {
      var tile = event.target;
      if (!tile.matches || !tile.matches("[data-frame]") || event.ctrlKey || event.metaKey) {
        return;
      }
      var all = tiles();
      var index = all.indexOf(tile);
      var key = event.key;
      var earlier = key === "ArrowLeft" || key === "ArrowUp";
      var later = key === "ArrowRight" || key === "ArrowDown";
      if ((event.altKey && earlier) || key === "[") {
        moveTo(tile, index - 1);
        tile.focus();
      } else if ((event.altKey && later) || key === "]") {
        moveTo(tile, index + 1);
        tile.focus();
      } else if (event.altKey) {
        return;
      } else if (earlier) {
        (all[index - 1] || tile).focus();
      } else if (later) {
        (all[index + 1] || tile).focus();
      } else if (key === "Home") {
        all[0].focus();
      } else if (key === "End") {
        all[all.length - 1].focus();
      } else if (key === "Delete" || key === "Backspace") {
        drop(tile);
      } else {
        return;
      }
      event.preventDefault();
    });

    // Dragging: pointer events, so a mouse, a pen and a finger on the picture all work.
    var drag = null;

    function tileAt(x, y) {
      return tiles().find(function (tile) {
        var box = tile.getBoundingClientRect();
        return x >= box.left && x <= box.right && y >= box.top && y <= box.bottom;
      });
    }

    list.addEventListener("pointerdown", function (event) {
      var tile = event.target.closest("[data-frame]");
      if (!tile || event.button !== 0 || event.target.closest("button, input, a")) {
        return;
      }
      drag = { tile: tile, pointer: event.pointerId, x: event.clientX, y: event.clientY };
      drag.from = tiles().indexOf(tile);
      drag.moving = false;
      tile.setPointerCapture(event.pointerId);
    });

    // On the document: moving the dragged tile in the list may end its pointer capture.
    document.addEventListener("pointermove", function (event) {
      if (!drag || event.pointerId !== drag.pointer) {
        return;
      }
      if (!drag.moving) {
        var far = Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y);
        if (far < DRAG_START_PX) {
          return;
        }
        drag.moving = true;
        drag.tile.classList.add("is-dragging");
        list.classList.add("is-sorting");
      }
      event.preventDefault();
      var over = tileAt(event.clientX, event.clientY);
      if (over && over !== drag.tile) {
        var all = tiles();
        if (all.indexOf(over) > all.indexOf(drag.tile)) {
          over.after(drag.tile);
        } else {
          over.before(drag.tile);
        }
      }
    });

    function finish(event) {
      if (!drag || event.pointerId !== drag.pointer) {
        return;
      }
      var ended = drag;
      drag = null;
      ended.tile.classList.remove("is-dragging");
      list.classList.remove("is-sorting");
      if (ended.tile.hasPointerCapture(event.pointerId)) {
        ended.tile.releasePointerCapture(event.pointerId);
      }
      if (!ended.moving) {
        return;
      }
      changed();
      ended.tile.focus({ preventScroll: true });
      if (tiles().indexOf(ended.tile) !== ended.from) {
        announce("Frame #" + ended.tile.dataset.id + " is " + where(ended.tile) + ".");
      }
    }

    document.addEventListener("pointerup", finish);
    document.addEventListener("pointercancel", finish);

    // Adding a frame by id: its picture shows once the entry is saved.
    var addId = editor.querySelector("[data-frame-add-id]");
    var addButton = editor.querySelector("[data-frame-add]");

    function add() {
      var value = addId.value.trim();
      if (!/^[0-9]{1,12}$/.test(value)) {
        announce("Type a candidate id (a whole number) to add it.");
        addId.focus();
        return;
      }
      var id = String(Number(value));
      var present = tiles().some(function (tile) {
        return tile.dataset.id === id;
      });
      if (present) {
        announce("Candidate #" + id + " is a frame already.");
        return;
      }
      list.appendChild(newTile(id));
      addId.value = "";
      changed();
      announce("Added candidate #" + id + " as frame " + tiles().length + "; save to see it.");
    }

    function newTile(id) {
      var tile = document.createElement("li");
      tile.className = "frame-tile is-new";
      tile.tabIndex = 0;
      tile.dataset.frame = "";
      tile.dataset.id = id;
      tile.dataset.label = "candidate " + id + " (added; its picture shows after saving)";
      tile.appendChild(span("frame-still", "still")).dataset.stillBadge = "";
      tile.appendChild(span("frame-thumb no-image", "shown after saving"));
      var caption = tile.appendChild(span("frame-caption", ""));
      caption.appendChild(span("frame-id", "#" + id));
      caption.appendChild(span("", "added"));
      // The buttons as the server renders them, named for this frame.
      var model = tiles()[0];
      var buttons = model.querySelector(".frame-buttons").cloneNode(true);
      var was = "#" + model.dataset.id;
      Array.prototype.forEach.call(buttons.querySelectorAll("button"), function (button) {
        button.disabled = false;
        var label = button.getAttribute("aria-label") || "";
        button.setAttribute("aria-label", label.split(was).join("#" + id));
      });
      tile.appendChild(buttons);
      return tile;
    }

    function span(className, text) {
      var element = document.createElement("span");
      if (className) {
        element.className = className;
      }
      element.textContent = text;
      return element;
    }

    if (addId && addButton) {
      addButton.addEventListener("click", add);
      addId.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault();
          add();
        }
      });
    }

    refresh();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
