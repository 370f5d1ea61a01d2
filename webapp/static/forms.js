// Repeated groups of the task forms (the parties of an agreement): add a row from the group's
// <template>, remove a row. A file because the Content-Security-Policy allows scripts from this site
// only. Rows are numbered by the order they were added; the server reads them in that order and
// drops rows left blank, so removing one never needs the others renumbered.
(function () {
  "use strict";

  function wire(row) {
    row.querySelectorAll("[data-group-remove]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        row.remove();
      });
    });
  }

  // The groups within `root`; a form drawn into the page later (the scenario recorder's) is wired when
  // it arrives.
  function wireGroups(root) {
    root.querySelectorAll("fieldset[data-group]").forEach(wireGroup);
  }

  function wireGroup(group) {
    var template = group.querySelector("template");
    var rows = group.querySelector(".group-rows");
    var add = group.querySelector("[data-group-add]");
    if (!template || !rows || !add || group.disabled) {
      return;
    }
    group.querySelectorAll(".group-rows [data-row]").forEach(wire);
    add.hidden = false;
    add.addEventListener("click", function () {
      var index = String(group.dataset.next || "0");
      group.dataset.next = String(Number(index) + 1);
      var html = template.innerHTML.split("__row__").join(index);
      rows.insertAdjacentHTML("beforeend", html);
      var row = rows.lastElementChild;
      wire(row);
      var first = row.querySelector("input, select, textarea");
      if (first) {
        first.focus();
      }
    });
  }

  window.fangtiaoForms = { wireGroups: wireGroups };
  wireGroups(document);
})();
