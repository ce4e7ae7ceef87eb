// Tables become cards on a narrow screen (console.css, max-width 640px): each cell gets its column's header as a
// data-label, which the stylesheet shows before the cell's content. Done for every table on load and again for
// whatever HTMX swaps in. A table with the class "no-cards" (a print layout, a form laid out as a grid) keeps its
// grid and scrolls inside its own box instead.
(function () {
  "use strict";

  function headerLabels(table) {
    // The header row nearest the body: with two header rows (a group over its columns), the lower one names them.
    var rows = table.tHead ? table.tHead.rows : [];
    var row = rows.length ? rows[rows.length - 1] : null;
    if (!row) {
      return null;
    }
    var labels = [];
    for (var i = 0; i < row.cells.length; i++) {
      var cell = row.cells[i];
      var text = (cell.getAttribute("aria-label") || cell.textContent || "").replace(/\s+/g, " ").trim();
      for (var span = 0; span < (cell.colSpan || 1); span++) {
        labels.push(text);
      }
    }
    return labels;
  }

  function label(table) {
    if (table.classList.contains("no-cards")) {
      return;
    }
    var labels = headerLabels(table);
    if (!labels) {
      return;
    }
    var sections = Array.prototype.slice.call(table.tBodies);
    if (table.tFoot) {
      sections.push(table.tFoot);
    }
    sections.forEach(function (section) {
      Array.prototype.forEach.call(section.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var text = labels[column];
          // A cell spanning several columns (a note under the row, "no entries") carries no single column's name.
          if (text && (cell.colSpan || 1) === 1 && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", text);
          }
          column += cell.colSpan || 1;
        });
      });
    });
    table.classList.add("cards");
  }

  function labelWithin(root) {
    if (!root || !root.querySelectorAll) {
      return;
    }
    if (root.tagName === "TABLE") {
      label(root);
    }
    Array.prototype.forEach.call(root.querySelectorAll("table"), label);
    // A swapped-in row or body belongs to a table already on the page.
    if (root.closest && root.tagName !== "TABLE") {
      var table = root.closest("table");
      if (table) {
        label(table);
      }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    labelWithin(document.body);
  });
  // htmx:load fires for every element HTMX puts into the page, whatever the swap style.
  document.addEventListener("htmx:load", function (event) {
    labelWithin(event.target);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    labelWithin(event.target);
  });
})();
