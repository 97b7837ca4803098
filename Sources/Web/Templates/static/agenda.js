// Week grid of the SAS agenda: arrow keys move between hour cells, Enter (or a click on an empty spot) prepares the
// "add" form for that day and hour. The page works without this script (the form alone).
(function () {
  "use strict";
  var table = document.querySelector("table.semaine");
  var form = document.getElementById("form-creneau");
  if (!table || !form) return;
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var grid = rows.map(function (row) { return Array.prototype.slice.call(row.querySelectorAll("td[data-jour]")); });
  var current = { r: 0, c: 0 };
  grid.forEach(function (cells, r) {
    cells.forEach(function (cell, c) {
      cell.tabIndex = -1;
      cell.addEventListener("click", function (event) {
        if (event.target.closest("a")) return;
        focus(r, c);
        prepare(cell);
      });
    });
  });
  // Start at 08:00 today (or the first cell).
  var start = { r: Math.min(2, grid.length - 1), c: 0 };
  var today = new Date().toISOString().slice(0, 10);
  (grid[0] || []).forEach(function (cell, c) { if (cell.getAttribute("data-jour") === today) start.c = c; });
  if (grid.length) { grid[start.r][start.c].tabIndex = 0; current = start; }

  function focus(r, c) {
    r = Math.max(0, Math.min(grid.length - 1, r));
    c = Math.max(0, Math.min(grid[r].length - 1, c));
    grid[current.r][current.c].tabIndex = -1;
    current = { r: r, c: c };
    var cell = grid[r][c];
    cell.tabIndex = 0;
    cell.focus();
  }

  function prepare(cell) {
    form.elements.jour.value = cell.getAttribute("data-jour");
    form.elements.debut.value = cell.getAttribute("data-debut");
    var end = cell.getAttribute("data-fin");
    form.elements.fin.value = end === "24:00" ? "23:55" : end;
    form.elements.debut.focus();
  }

  table.addEventListener("keydown", function (event) {
    var cell = event.target.closest ? event.target.closest("td[data-jour]") : null;
    if (!cell) return;
    var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1], Home: [0, -7], End: [0, 7] };
    if (moves[event.key]) {
      event.preventDefault();
      focus(current.r + moves[event.key][0], current.c + moves[event.key][1]);
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      prepare(cell);
    }
  });
})();
