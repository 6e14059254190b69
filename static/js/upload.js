// A touchpoint upload being checked or imported: its progress from the status view every
// second, and the page again once it is ready or stalled (or moving again). Without JavaScript
// the page refreshes itself, except while stalled.
const card = document.querySelector("[data-upload-status]");
if (card) {
  const bar = card.querySelector("[data-progress]");
  const text = card.querySelector("[data-progress-text]");
  const tick = async () => {
    try {
      const reply = await fetch(card.dataset.uploadStatus, { headers: { Accept: "application/json" } });
      if (reply.ok) {
        const state = await reply.json();
        const stalled = state.stalled ? "1" : "0";
        if (state.status !== card.dataset.status || !state.in_progress || stalled !== card.dataset.stalled) {
          window.location.reload();
          return;
        }
        bar.max = Math.max(state.lines_total, 1);
        bar.value = state.lines_done;
        text.textContent = interpolate(gettext("%(done)s of %(total)s lines"), { done: state.lines_done, total: state.lines_total }, true);
      }
    } catch {
      // a network hiccup: try again on the next tick
    }
    window.setTimeout(tick, 1000);
  };
  window.setTimeout(tick, 1000);
}
