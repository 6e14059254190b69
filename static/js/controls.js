// Dashboard controls: typing a date switches the period to "Custom"; choosing from a list applies
// at once. Without JavaScript the same form works with its Apply button.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // On a phone the controls fold behind one button that shows the current period and filters.
  document.querySelectorAll("[data-toggle-controls]").forEach(function (button) {
    var form = document.getElementById(button.getAttribute("aria-controls"));
    button.addEventListener("click", function () {
      var open = !form.classList.contains("is-open");
      form.classList.toggle("is-open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });
  document.querySelectorAll("form[data-controls]").forEach(function (form) {
    var range = form.querySelector("[data-range]");
    // The dates show the chosen preset's range; they are only needed for a custom one.
    var dates = form.querySelectorAll("[data-when-custom]");
    dates.forEach(function (label) { label.hidden = true; });
    form.querySelectorAll("[data-date]").forEach(function (input) {
      input.addEventListener("change", function () {
        if (range) range.value = "custom";
      });
    });
    // The URL carries only what was chosen: no empty filters, and no dates unless the period is
    // custom. Such a query is a bookmark, and works as it is on the report API as well.
    form.addEventListener("submit", function (event) {
      if (typeof URLSearchParams === "undefined" || typeof FormData === "undefined") return;
      event.preventDefault();
      var custom = !range || range.value === "custom";
      var query = new URLSearchParams();
      new FormData(form).forEach(function (value, name) {
        if (value === "") return;
        if (!custom && (name === "start" || name === "end")) return;
        query.append(name, value);
      });
      var target = form.getAttribute("action") || window.location.pathname;
      window.location.assign(target + (query.toString() ? "?" + query.toString() : ""));
    });
    form.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select === range && range.value === "custom") {
          dates.forEach(function (label) { label.hidden = false; });
          var first = form.querySelector("[data-date]");
          if (first) first.focus();
          return;
        }
        form.requestSubmit ? form.requestSubmit() : form.submit();
      });
    });
  });
})();
