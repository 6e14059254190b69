// Dashboard controls: typing a date switches the period to "Custom"; choosing from a list applies
// at once. Without JavaScript the same form works with its Apply button.
(function () {
  "use strict";
  document.querySelectorAll("form[data-controls]").forEach(function (form) {
    var range = form.querySelector("[data-range]");
    form.querySelectorAll("[data-date]").forEach(function (input) {
      input.addEventListener("change", function () {
        if (range) range.value = "custom";
      });
    });
    form.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select === range && range.value === "custom") {
          var first = form.querySelector("[data-date]");
          if (first) first.focus();
          return;
        }
        form.requestSubmit ? form.requestSubmit() : form.submit();
      });
    });
  });
})();
