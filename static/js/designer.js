// The survey designer: edits the survey JSON of /api/v1/surveys/<slug>/ and shows a live preview
// rendered by the server with the answer page's own template. No chart or scale arithmetic here:
// default labels and satisfied sets come from the server's scale catalog.
(function () {
  "use strict";
  const root = document.getElementById("designer");
  if (!root) return;
  const catalog = JSON.parse(document.getElementById("scale-catalog").textContent);
  const languageNames = Object.fromEntries(
    JSON.parse(document.getElementById("language-names").textContent).map((l) => [l.code, l.name])
  );
  let survey = JSON.parse(document.getElementById("survey-definition").textContent);
  let lang = survey.languages[0];
  let dirty = false;
  let errors = {};
  const $ = (id) => document.getElementById(id);
  // Texts come from Django's JavaScript catalog (/jsi18n/) in the admin's language.
  const gettext = window.gettext || ((s) => s);
  const fmt = (text, values) => (window.interpolate ? window.interpolate(text, values, true)
    : text.replace(/%\((\w+)\)s/g, (_, k) => values[k]));
  const KIND_NAMES = { rating: gettext("Rating"), nps: gettext("NPS"), ces: gettext("Customer effort"), comment: gettext("Comment") };
  const SCALE_NAMES = {
    "1-5": "1 – 5", "1-7": "1 – 7", "1-10": "1 – 10", "0-10": "0 – 10",
    "yes-no": gettext("Yes / No"), "emoji-3": gettext("3 faces"), "emoji-5": gettext("5 faces"),
  };
  const STATUS_NAMES = { draft: gettext("Draft"), active: gettext("Active"), paused: gettext("Paused"), archived: gettext("Archived") };
  const FIELD_NAMES = { title: gettext("Title for customers"), intro: gettext("Introduction"), thank_you: gettext("Thank-you text"),
    email_subject: gettext("Email subject"), email_body: gettext("Email text") };

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v === null || v === undefined) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "value") el.value = v;
      else if (k === "checked") el.checked = !!v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c.nodeType ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  async function call(url, method, body, isJson = true) {
    const res = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: Object.assign(
        { "X-CSRFToken": csrf(), Accept: "application/json" },
        { "Content-Type": isJson ? "application/json" : "application/x-www-form-urlencoded" }
      ),
      body: body === undefined ? undefined : isJson ? JSON.stringify(body) : body,
    });
    const type = res.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await res.json() : await res.text();
    return { ok: res.ok, status: res.status, data };
  }

  // --- scale helpers (data from the server's catalog) ---------------------------------------
  function scaleEntry(q) {
    const kind = catalog.kinds[q.kind];
    return kind && kind.scales[q.scale];
  }
  function defaults(q) {
    const entry = scaleEntry(q);
    if (!entry) return null;
    return entry[q.reversed && entry.reversible ? "reversed" : "normal"];
  }
  function labelsFor(q, code) {
    if (q.labels && q.labels[code] && q.labels[code].length) return q.labels[code];
    const d = defaults(q);
    return d ? d.labels[code] || d.labels.en : [];
  }
  function resetScale(q) {
    const d = defaults(q);
    q.labels = {};
    q.satisfied = d ? d.satisfied.slice() : [];
  }
  const published = () => !!survey.published_at;

  // --- the definition sent to the API -----------------------------------------------------
  function payload() {
    const out = {};
    for (const k of ["name", "slug", "touchpoint", "languages", "title", "intro", "thank_you", "email_subject",
      "email_body", "csat_target", "send_delay_minutes", "expires_after_days", "reminder_after_days",
      "min_days_between_surveys", "sample_rate", "filters"]) out[k] = survey[k];
    out.questions = survey.questions.map((q) => {
      const o = { key: q.key, kind: q.kind, text: q.text, required: !!q.required };
      if (q.kind === "comment") o.max_length = q.max_length || 1000;
      else Object.assign(o, { scale: q.scale, labels: q.labels || {}, reversed: !!q.reversed,
        satisfied: q.satisfied, primary: !!q.primary });
      return o;
    });
    return out;
  }

  // --- rendering -----------------------------------------------------------------------
  function bindText(id, get, set) {
    const el = $(id);
    el.value = get() ?? "";
    el.oninput = () => { set(el.value); changed(); };
  }

  function renderSurvey() {
    bindText("f-name", () => survey.name, (v) => (survey.name = v));
    bindText("f-slug", () => survey.slug, (v) => (survey.slug = v));
    $("f-slug").disabled = published();
    $("f-touchpoint").value = survey.touchpoint;
    $("f-touchpoint").onchange = (e) => { survey.touchpoint = e.target.value; changed(); };
    bindText("f-target", () => survey.csat_target, (v) => (survey.csat_target = v === "" ? null : Number(v)));
    for (const box of $("f-languages").querySelectorAll("input")) {
      box.checked = survey.languages.includes(box.value);
      box.onchange = () => {
        const chosen = survey.languages.filter((c) => c !== box.value);
        if (box.checked) chosen.push(box.value);
        if (!chosen.length) { box.checked = true; return; }
        survey.languages = chosen;
        if (!chosen.includes(lang)) lang = chosen[0];
        changed(); renderAll();
      };
    }
    const local = (field) => [() => (survey[field] || {})[lang] || "", (v) => {
      survey[field] = Object.assign({}, survey[field] || {}, { [lang]: v });
    }];
    bindText("f-title", ...local("title"));
    bindText("f-intro", ...local("intro"));
    bindText("f-thanks", ...local("thank_you"));
    bindText("f-subject", ...local("email_subject"));
    bindText("f-body", ...local("email_body"));
    bindText("f-delay", () => survey.send_delay_minutes, (v) => (survey.send_delay_minutes = Number(v || 0)));
    bindText("f-expires", () => survey.expires_after_days, (v) => (survey.expires_after_days = Number(v || 1)));
    bindText("f-reminder", () => survey.reminder_after_days, (v) => (survey.reminder_after_days = v === "" ? null : Number(v)));
    bindText("f-fatigue", () => survey.min_days_between_surveys, (v) => (survey.min_days_between_surveys = Number(v || 0)));
    bindText("f-sample", () => Math.round((survey.sample_rate ?? 1) * 100), (v) => (survey.sample_rate = v === "" ? 1 : Number(v) / 100));
    bindText(
      "f-filters",
      () => Object.entries(survey.filters || {}).map(([k, v]) => `${k} = ${v.join(", ")}`).join("\n"),
      (v) => {
        const filters = {};
        for (const line of v.split("\n")) {
          const [k, vals] = line.split("=");
          if (!k || !k.trim() || vals === undefined) continue;
          filters[k.trim()] = vals.split(",").map((s) => s.trim()).filter(Boolean);
        }
        survey.filters = filters;
      }
    );
    for (const tag of document.querySelectorAll(".lang-tag")) tag.textContent = survey.languages.length > 1 ? lang : "";
    renderLangTabs();
    renderHead();
  }

  // The same rule as surveys/translations.py: a text is missing in a language when another of
  // the survey's languages has it; question texts are needed in every language.
  function missingTexts(code) {
    const has = (texts, c) => !!(texts && typeof texts === "object" && String(texts[c] || "").trim());
    const out = [];
    for (const field of Object.keys(FIELD_NAMES)) {
      if (survey.languages.some((c) => has(survey[field], c)) && !has(survey[field], code)) out.push(FIELD_NAMES[field]);
    }
    survey.questions.forEach((q, i) => {
      const ref = { number: i + 1, key: q.key };
      if (!has(q.text, code)) out.push(fmt(gettext("Question %(number)s (%(key)s)"), ref));
      const labels = q.labels || {};
      if (survey.languages.some((c) => (labels[c] || []).length) && !(labels[code] || []).length) {
        out.push(fmt(gettext("Scale labels of question %(number)s (%(key)s)"), ref));
      }
    });
    return out;
  }
  function missingIn(code) {
    return missingTexts(code).length > 0;
  }
  function translationWarnings() {
    return survey.languages.map((code) => ({ code, fields: missingTexts(code) })).filter((m) => m.fields.length);
  }
  function renderWarnings() {
    const box = $("translation-warnings");
    if (!box) return;
    const list = translationWarnings();
    box.hidden = !list.length;
    box.replaceChildren(
      h("strong", {}, gettext("Missing translations")),
      h("ul", {}, list.map((m) => h("li", {}, h("b", {}, languageNames[m.code] || m.code), ": ", m.fields.join(", "))))
    );
  }

  function renderLangTabs() {
    const tabs = $("lang-tabs");
    tabs.replaceChildren();
    tabs.hidden = survey.languages.length < 2;
    for (const code of survey.languages) {
      tabs.append(h("button", {
        type: "button", role: "tab", "aria-selected": String(code === lang),
        title: missingIn(code) ? gettext("Some texts are missing in this language") : "",
        onclick: () => { lang = code; renderAll(); },
      }, languageNames[code] || code, code === survey.languages[0] ? h("small", { class: "muted" }, " · " + gettext("default")) : null,
      missingIn(code) ? h("span", { class: "miss" }, " !") : null));
    }
    $("preview-lang").textContent = languageNames[lang] || lang;
    renderWarnings();
  }

  function renderHead() {
    $("head-name").textContent = survey.name || gettext("Untitled survey");
    $("head-slug").textContent = survey.slug;
    const st = $("head-status");
    st.className = "badge " + survey.status;
    st.textContent = STATUS_NAMES[survey.status] || survey.status;
    $("btn-publish").hidden = survey.status !== "draft";
    $("btn-pause").hidden = survey.status !== "active";
    $("btn-resume").hidden = survey.status !== "paused";
    $("btn-archive").hidden = survey.status === "archived";
    $("btn-save").disabled = !dirty || survey.status === "archived";
    $("save-state").textContent = dirty ? gettext("Unsaved changes") : gettext("All changes saved");
  }

  function questionErrors(i) {
    const qe = Array.isArray(errors.questions) ? errors.questions[i] : null;
    return qe && typeof qe === "object" ? qe : {};
  }

  function renderQuestions() {
    const box = $("questions");
    box.replaceChildren();
    if (!survey.questions.length) {
      box.append(h("div", { class: "card empty" }, gettext("No questions yet. Add a rating question to measure CSAT.")));
    }
    survey.questions.forEach((q, i) => box.append(renderQuestion(q, i)));
  }

  function renderQuestion(q, i) {
    const errs = questionErrors(i);
    const locked = published() && q.frozen;
    const move = (d) => {
      const j = i + d;
      if (j < 0 || j >= survey.questions.length) return;
      [survey.questions[i], survey.questions[j]] = [survey.questions[j], survey.questions[i]];
      changed(); renderQuestions();
    };
    const head = h("div", { class: "q-head" },
      h("span", { class: "pos", "aria-hidden": "true" }, i + 1),
      h("span", { class: "kind" }, KIND_NAMES[q.kind] || q.kind),
      q.primary ? h("span", { class: "badge active" }, gettext("Primary CSAT")) : null,
      locked ? h("span", { class: "lock", title: gettext("Published: scale, direction and satisfied values are frozen") }, "🔒 " + gettext("frozen")) : null,
      h("span", { class: "spacer" }),
      h("span", { class: "tools" },
        h("button", { class: "btn small", type: "button", "aria-label": fmt(gettext("Move question %(number)s up"), { number: i + 1 }), disabled: i === 0, onclick: () => move(-1) }, "↑"),
        h("button", { class: "btn small", type: "button", "aria-label": fmt(gettext("Move question %(number)s down"), { number: i + 1 }), disabled: i === survey.questions.length - 1, onclick: () => move(1) }, "↓"),
        h("button", {
          class: "btn small danger", type: "button", "aria-label": fmt(gettext("Remove question %(number)s"), { number: i + 1 }),
          disabled: locked, title: locked ? gettext("Questions of a published survey cannot be removed") : "",
          onclick: () => { survey.questions.splice(i, 1); changed(); renderQuestions(); },
        }, gettext("Remove"))
      )
    );
    const body = h("div", { class: "q-body" });
    const text = h("input", { type: "text", maxlength: 500, value: (q.text || {})[lang] || "", "aria-label": fmt(gettext("Question %(number)s text"), { number: i + 1 }), placeholder: gettext("How satisfied were you with …?") });
    text.oninput = () => { q.text = Object.assign({}, q.text, { [lang]: text.value }); changed(); };
    body.append(h("label", { class: "field" }, h("span", {}, gettext("Question") + " ", survey.languages.length > 1 ? h("em", { class: "lang-tag" }, lang) : null), text));
    if (errs.text) body.append(h("p", { class: "err" }, errs.text));

    const key = h("input", { type: "text", value: q.key, maxlength: 50, disabled: locked, "aria-label": fmt(gettext("Question %(number)s key"), { number: i + 1 }) });
    key.oninput = () => { q.key = key.value; changed(); };
    const grid = h("div", { class: "q-grid" }, h("label", { class: "field" }, h("span", {}, gettext("Key")), key, h("small", {}, gettext("Stable name in the API and exports."))));
    if (q.kind !== "comment") {
      const scale = h("select", { disabled: locked, "aria-label": fmt(gettext("Question %(number)s scale"), { number: i + 1 }) },
        Object.keys(catalog.kinds[q.kind].scales).map((code) => h("option", { value: code }, SCALE_NAMES[code] || code)));
      scale.value = q.scale;
      scale.onchange = () => {
        q.scale = scale.value;
        if (!scaleEntry(q).reversible) q.reversed = false;
        resetScale(q); changed(); renderQuestions();
      };
      grid.append(h("label", { class: "field" }, h("span", {}, gettext("Scale")), scale));
    } else {
      const max = h("input", { type: "number", min: 1, max: 10000, value: q.max_length || 1000 });
      max.oninput = () => { q.max_length = Number(max.value || 1000); changed(); };
      grid.append(h("label", { class: "field" }, h("span", {}, gettext("Length limit (characters)")), max));
    }
    body.append(grid);
    for (const f of ["key", "scale", "kind", "max_length"]) if (errs[f]) body.append(h("p", { class: "err" }, errs[f]));

    const checks = h("div", { class: "checks" });
    const req = h("input", { type: "checkbox", checked: q.required });
    req.onchange = () => { q.required = req.checked; changed(); };
    checks.append(h("label", {}, req, gettext("Required")));
    if (q.kind !== "comment") {
      const prim = h("input", { type: "radio", name: "primary", checked: q.primary });
      prim.onchange = () => { survey.questions.forEach((o) => (o.primary = o === q)); changed(); renderQuestions(); };
      checks.append(h("label", {}, prim, gettext("Primary CSAT question")));
      const entry = scaleEntry(q);
      if (entry && entry.reversible) {
        const rev = h("input", { type: "checkbox", checked: q.reversed, disabled: locked });
        rev.onchange = () => { q.reversed = rev.checked; resetScale(q); changed(); renderQuestions(); };
        checks.append(h("label", { title: gettext("As German school grades: 1 is the best") }, rev, gettext("Reversed (1 = best)")));
      }
    }
    body.append(checks);
    if (errs.primary) body.append(h("p", { class: "err" }, errs.primary));

    if (q.kind !== "comment" && scaleEntry(q)) {
      const points = scaleEntry(q).points;
      const labels = labelsFor(q, lang);
      const faces = catalog.faces[q.scale] || [];
      const rows = points.map((p, idx) => {
        const isSat = (q.satisfied || []).includes(p);
        const label = h("input", { type: "text", maxlength: 200, value: labels[idx] || "", "aria-label": fmt(gettext("Label of point %(point)s"), { point: p }) });
        label.oninput = () => {
          const list = labelsFor(q, lang).slice();
          list[idx] = label.value;
          q.labels = Object.assign({}, q.labels, { [lang]: list });
          changed();
        };
        const sat = h("input", { type: "checkbox", checked: isSat, disabled: locked, "aria-label": fmt(gettext("Point %(point)s counts as satisfied"), { point: p }) });
        sat.onchange = () => {
          const set = new Set(q.satisfied || []);
          sat.checked ? set.add(p) : set.delete(p);
          q.satisfied = [...set].sort((a, b) => a - b);
          changed(); renderQuestions();
        };
        return h("tr", { class: isSat ? "sat" : "" },
          h("td", { class: "v" }, faces[idx] ? `${faces[idx]}` : q.scale === "yes-no" ? (p ? gettext("yes") : gettext("no")) : p),
          h("td", {}, label), h("td", { class: "s" }, sat));
      });
      body.append(h("table", { class: "points-table" },
        h("thead", {}, h("tr", {}, h("th", {}, gettext("Point")), h("th", {}, fmt(gettext("Label (%(language)s)"), { language: lang })), h("th", {}, gettext("Satisfied")))),
        h("tbody", {}, rows)));
      for (const f of ["labels", "satisfied", "reversed"]) if (errs[f]) body.append(h("p", { class: "err" }, errs[f]));
    }
    return h("div", { class: "q" + (Object.keys(errs).length ? " invalid" : ""), "data-key": q.key }, head, body);
  }

  function renderErrors() {
    const box = $("errors");
    const list = [];
    const walk = (value, path) => {
      if (Array.isArray(value) && value.every((v) => typeof v === "string")) list.push(`${path}: ${value.join(" ")}`);
      else if (typeof value === "string") list.push(path ? `${path}: ${value}` : value);
      else if (Array.isArray(value)) value.forEach((v, i) => v && Object.keys(v).length && walk(v, `${path} ${i + 1}`));
      else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, path ? `${path} › ${k}` : k);
    };
    walk(errors, "");
    // A refusal names its field and repeats itself as "detail": one problem, one line.
    const seen = new Set(list.filter((t) => !t.startsWith("detail: ")).map((t) => t.slice(t.indexOf(": ") + 2)));
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].startsWith("detail: ") && seen.has(list[i].slice(8))) list.splice(i, 1);
    }
    box.hidden = !list.length;
    box.replaceChildren(h("strong", {}, gettext("Please fix:")), h("ul", {}, list.map((t) => h("li", {}, t.replace(/^detail: /, "")))));
  }

  function renderAll() {
    renderSurvey();
    renderQuestions();
    renderErrors();
    schedulePreview();
  }

  function changed() {
    dirty = true;
    renderHead();
    renderLangTabs();
    schedulePreview();
  }

  // --- preview -----------------------------------------------------------------------------
  let previewTimer = null;
  let previewSeq = 0;
  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(updatePreview, 250);
  }
  let previewView = "page";
  async function updatePreview() {
    const seq = ++previewSeq;
    if (previewView === "email") updateEmail(seq);
    const res = await call(`${root.dataset.preview}?lang=${encodeURIComponent(lang)}`, "POST", payload());
    if (seq !== previewSeq) return;
    if (res.ok) {
      for (const id of ["pv-phone", "pv-desktop"]) $(id).srcdoc = res.data;
      if (Object.keys(errors).length && !errors._server) { errors = {}; renderErrors(); markInvalid(); }
    } else if (res.status === 400) {
      errors = res.data; renderErrors(); markInvalid();
    }
  }
  // The email as it will be sent, built on the server from the unsaved survey. Its HTML part is
  // posted into a sandboxed frame: a page of its own, with the inline styles emails need.
  async function updateEmail(seq) {
    const reminder = $("em-reminder").checked ? "&reminder=1" : "";
    const url = `${root.dataset.email}?lang=${encodeURIComponent(lang)}${reminder}`;
    const res = await call(url, "POST", payload());
    if (seq !== previewSeq || !res.ok) return;
    $("em-subject").textContent = res.data.subject;
    $("em-from").textContent = res.data.from;
    $("em-text").textContent = res.data.text;
    const form = $("email-draft-form");
    form.action = `${url}&part=html`;
    form.elements.csrfmiddlewaretoken.value = csrf();
    form.elements.definition.value = JSON.stringify(payload());
    form.submit();
  }
  for (const b of document.querySelectorAll("[data-view]")) {
    b.onclick = () => {
      previewView = b.dataset.view;
      for (const o of document.querySelectorAll("[data-view]")) o.setAttribute("aria-selected", String(o === b));
      $("pv-page").hidden = previewView !== "page";
      $("pv-email").hidden = previewView !== "email";
      document.querySelector("[data-page-only]").hidden = previewView !== "page";
      // The email is 560 px wide: it gets the wide column the desktop preview gets.
      const desktop = document.querySelector('[data-device="desktop"]').getAttribute("aria-selected") === "true";
      document.querySelector(".editor-body").classList.toggle("desktop-preview", previewView === "email" || desktop);
      if (previewView === "email") updateEmail(previewSeq);
      else fitDesktop();
    };
  }
  $("em-reminder").onchange = () => updateEmail(++previewSeq);
  function markInvalid() {
    document.querySelectorAll(".q").forEach((el, i) => el.classList.toggle("invalid", !!Object.keys(questionErrors(i)).length));
  }
  // The answer page as a desktop browser shows it: a narrow desktop window, scaled to the
  // preview's width, which grows while the desktop preview is shown so the text stays readable.
  const DESKTOP_WIDTH = 900;
  function fitDesktop() {
    const view = document.querySelector(".desk-view");
    const frame = $("pv-desktop");
    if (!view || !view.clientWidth) return;
    const scale = Math.min(1, view.clientWidth / DESKTOP_WIDTH);
    frame.style.transform = `scale(${scale})`;
    view.style.height = Math.round(1400 * scale) + "px";
  }
  for (const b of document.querySelectorAll("[data-device]")) {
    b.onclick = () => {
      for (const o of document.querySelectorAll("[data-device]")) o.setAttribute("aria-selected", String(o === b));
      for (const f of document.querySelectorAll("[data-frame]")) f.hidden = f.dataset.frame !== b.dataset.device;
      document.querySelector(".editor-body").classList.toggle("desktop-preview", b.dataset.device === "desktop");
      fitDesktop();
    };
  }
  window.addEventListener("resize", fitDesktop);

  // --- actions -----------------------------------------------------------------------------
  async function save() {
    const res = await call(root.dataset.api, "PATCH", payload());
    if (!res.ok) {
      errors = Object.assign({ _server: true }, res.data);
      delete errors._server;
      renderErrors(); markInvalid();
      return false;
    }
    const slugChanged = res.data.slug !== root.dataset.slug;
    survey = res.data; dirty = false; errors = {};
    if (slugChanged) { window.location = `/design/${survey.slug}/`; return true; }
    renderAll();
    return true;
  }
  async function setStatus(action) {
    if (dirty && !(await save())) return;
    const res = action === "publish"
      ? await call(root.dataset.api + "publish/", "POST")
      : await call(root.dataset.api, "PATCH", { status: action });
    if (!res.ok) { errors = res.data; renderErrors(); return; }
    survey = res.data; dirty = false; errors = {}; renderAll();
  }
  $("btn-save").onclick = save;
  $("btn-publish").onclick = () => {
    const missing = translationWarnings();
    const warn = missing.length
      ? "\n\n" + gettext("Missing translations") + ":\n" + missing.map((m) => `• ${languageNames[m.code] || m.code}: ${m.fields.join(", ")}`).join("\n")
      : "";
    if (confirm(gettext("Publish this survey? Scales, directions and satisfied values are frozen once published.") + warn)) setStatus("publish");
  };
  $("btn-pause").onclick = () => setStatus("paused");
  $("btn-resume").onclick = () => setStatus("active");
  $("btn-archive").onclick = () => { if (confirm(gettext("Archive this survey? It stops taking answers; all data is kept."))) setStatus("archived"); };
  $("btn-test").onclick = async () => {
    if (dirty && !(await save())) return;
    const form = new URLSearchParams({ lang });
    const res = await call(root.dataset.test, "POST", form.toString(), false);
    const box = $("test-result");
    box.hidden = false;
    if (res.ok) {
      box.replaceChildren(gettext("Test invitation sent to") + " ", h("strong", {}, res.data.email), ". " + gettext("Link:") + " ",
        h("a", { href: res.data.link, target: "_blank", rel: "noopener", id: "test-link" }, res.data.link));
    } else {
      box.textContent = (res.data && (res.data.detail || (res.data.email || []).join(" "))) || gettext("Could not create a test invitation.");
    }
  };
  for (const b of document.querySelectorAll("[data-add]")) {
    b.onclick = () => {
      const kind = b.dataset.add;
      let n = survey.questions.length + 1;
      let key = `${kind}_${n}`;
      while (survey.questions.some((q) => q.key === key)) key = `${kind}_${++n}`;
      const q = { key, kind, text: {}, required: false, labels: {}, reversed: false, primary: false, frozen: false };
      if (kind === "comment") q.max_length = 1000;
      else {
        q.scale = catalog.kinds[kind].default;
        q.primary = !survey.questions.some((o) => o.primary);
        q.required = q.primary; // the primary question is required unless the admin says not
        resetScale(q);
      }
      survey.questions.push(q);
      changed(); renderQuestions();
    };
  }
  window.addEventListener("beforeunload", (e) => { if (dirty) { e.preventDefault(); e.returnValue = ""; } });

  renderAll();
  fitDesktop();
})();
