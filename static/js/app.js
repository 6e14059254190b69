// Every logged-in page: the language menu applies the choice at once (without JavaScript, its
// button does); on a phone the main navigation folds behind a menu button (without JavaScript
// it wraps under the top bar instead).
document.documentElement.classList.add("js");
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.submit());
}
for (const button of document.querySelectorAll("[data-menu-toggle]")) {
  const menu = document.getElementById(button.getAttribute("aria-controls"));
  const show = (open) => {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("is-open", open);
  };
  button.addEventListener("click", () => show(button.getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      show(false);
      button.focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (!menu.contains(event.target) && !button.contains(event.target)) show(false);
  });
}
