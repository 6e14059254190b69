// Every logged-in page: the language menu applies the choice at once (without JavaScript, its
// button does).
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.submit());
}
