// coolpapers TL;DRs and translations (web/texts.py): the TL;DR under each card's title, fetched
// for the cards as they load (listing pages are cached and shared: they carry none); [TL;DR]
// asks for a missing one and shows it as it is written; [译] / [Translate] switches a card
// between the original and its translation, and the reader bar's button switches every card.
// The reader's choices (TL;DRs shown, the language, what to translate) stay in this browser.
// Model text reaches the page only as the server's `html` (escaped there, web/render.py); its
// math is typeset here with KaTeX as the abstracts' (app.js's typeset).
"use strict";
(() => {
  const KEY = "coolpapers.texts"; // {tldr: shown?, lang: "zh", fields: "both" | "abstract"}
  const DEFAULTS = { tldr: true, lang: "zh", fields: "both" };
  const BATCH = 200; // ids per GET /api/texts
  const POLL_MS = 500;
  const settings = () => {
    try { return { ...DEFAULTS, ...(JSON.parse(localStorage.getItem(KEY) || "{}") || {}) }; } catch (e) { return { ...DEFAULTS }; }
  };
  const save = (s) => { try { localStorage.setItem(KEY, JSON.stringify(s)); } catch (e) { /* private mode */ } };
  const typeset = (node) => { if (typeof window.typeset === "function") window.typeset(node); };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const enc = (id) => encodeURIComponent(id).replace(/%2F/g, "/");
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const allCards = () => [...document.querySelectorAll("div.paper")];
  // the filter (reader.js) reads a card's text once: tell it the card changed
  const changed = (card) => document.dispatchEvent(new CustomEvent("card:text", { detail: { card } }));
  const tasksFor = (s) => (s.fields === "abstract" ? ["abstract"] : ["title", "abstract"]);
  const label = (lang) => (lang.startsWith("zh") ? "[译]" : "[Translate]");

  let info = { configured: false, languages: [{ code: "zh", name: "中文" }] };
  const ready = fetch("/api/texts/info").then((r) => (r.ok ? r.json() : info)).then((j) => { info = j; }).catch(() => {});

  // The kept texts of these cards: {id: {text, html, model, prompt_version}}.
  async function kept(ids, task, lang) {
    const out = {};
    for (let i = 0; i < ids.length; i += BATCH) {
      const q = `ids=${encodeURIComponent(ids.slice(i, i + BATCH).join(","))}&task=${task}&lang=${encodeURIComponent(lang)}`;
      try {
        const r = await fetch(`/api/texts?${q}`);
        if (r.ok) Object.assign(out, await r.json());
      } catch (e) { console.warn("texts unavailable", e); }
    }
    return out;
  }

  // A reader's request: start or join, then the job's state every POLL_MS until it is done;
  // `partial(j)` sees the text so far.
  async function ask(id, task, lang, partial) {
    const url = `/api/papers/${enc(id)}/texts/${task}?lang=${encodeURIComponent(lang)}`;
    let r = await fetch(url, { method: "POST" });
    const end = Date.now() + 10 * 60 * 1000;
    for (;;) {
      let j = {};
      try { j = await r.json(); } catch (e) { /* not JSON */ }
      if (!r.ok) throw new Error(j.error || `HTTP ${r.status}`);
      if (j.html !== undefined && (j.state === "done" || j.state === "none")) return j;
      if (j.state === "failed") throw new Error(j.error || "the model failed");
      if (j.state === "none" || j.state === "done") throw new Error("no text was kept");
      if (partial && j.partial_html) partial(j);
      if (Date.now() > end) throw new Error("no answer in 10 minutes");
      await sleep(POLL_MS);
      r = await fetch(url);
    }
  }

  // Why a request failed (over the rate limit, no model, the model failed), under the title.
  function note(card, msg) {
    let n = card.querySelector("p.texts-note");
    if (!msg) { if (n) n.remove(); return; }
    if (!n) {
      n = el("p", "texts-note notice");
      const h2 = card.querySelector("h2.title");
      if (h2) h2.after(n); else card.prepend(n);
    }
    n.textContent = msg;
  }

  // ---- TL;DR -------------------------------------------------------------------------------
  function tldrBox(card) {
    let p = card.querySelector("p.tldr");
    if (!p) {
      p = el("p", "tldr");
      p.id = `tldr-${card.id}`;
      p.append(el("strong", "", "TL;DR"), ": ", el("span", "tldr-text"));
      const h2 = card.querySelector("h2.title");
      if (h2) h2.after(p); else card.prepend(p);
    }
    return p;
  }
  function showTldr(card, html, writing) {
    const p = tldrBox(card);
    const span = p.querySelector("span.tldr-text");
    span.innerHTML = html; // rendered and escaped by the server (web/texts.py)
    p.classList.toggle("writing", !!writing);
    if (!writing) { typeset(span); changed(card); }
  }
  function tldrButton(card) {
    const h2 = card.querySelector("h2.title");
    if (!h2 || h2.querySelector("button.title-tldr")) return;
    const b = el("button", "title-tldr notranslate", "[TL;DR]");
    b.type = "button";
    b.title = `A one-sentence summary, written by ${info.model || "the model"}`;
    h2.append(b);
  }
  async function askTldr(card, b) {
    b.disabled = true;
    b.textContent = "[TL;DR…]";
    note(card, "");
    try {
      const j = await ask(card.id, "tldr", "en", (x) => showTldr(card, x.partial_html, true));
      showTldr(card, j.html, false);
      card.dataset.tldr = "done";
      b.remove();
    } catch (e) {
      b.disabled = false;
      b.textContent = "[TL;DR ✗]";
      b.title = `Failed: ${e.message}. Click to try again.`;
      note(card, `TL;DR: ${e.message}`);
    }
  }
  async function loadTldrs(list) {
    if (!settings().tldr) return;
    const fresh = list.filter((c) => !c.dataset.tldr);
    if (!fresh.length) return;
    for (const c of fresh) c.dataset.tldr = "asked";
    const got = await kept(fresh.map((c) => c.id), "tldr", "en");
    await ready;
    for (const c of fresh) {
      const t = got[c.id];
      if (t) { showTldr(c, t.html, false); c.dataset.tldr = "done"; } else {
        c.dataset.tldr = "none";
        if (info.configured) tldrButton(c);
      }
    }
  }
  const applyTldrSetting = () => document.body.classList.toggle("hide-tldr", !settings().tldr);

  // ---- translation -------------------------------------------------------------------------
  const have = new Map(); // `${lang}|${task}|${id}` -> html
  const targets = (card) => ({ title: card.querySelector("a.title-link"), abstract: card.querySelector("p.summary") });
  function keepOriginal(card) {
    if (card.original) return;
    const t = targets(card);
    card.original = {};
    for (const [k, node] of Object.entries(t)) if (node) card.original[k] = [...node.childNodes];
  }
  function restore(card) {
    if (!card.original) return;
    card.run = (card.run || 0) + 1; // a translation still being written stops showing
    const t = targets(card);
    for (const [k, nodes] of Object.entries(card.original)) if (t[k]) t[k].replaceChildren(...nodes);
    delete card.dataset.translated;
    toggleState(card);
    changed(card);
  }
  function put(card, task, html) {
    const node = targets(card)[task];
    if (!node) return;
    node.innerHTML = html; // rendered and escaped by the server (web/texts.py)
    node.classList.add("translated");
    typeset(node);
  }
  function toggleState(card) {
    const b = card.querySelector("button.title-translate");
    if (!b) return;
    const on = !!card.dataset.translated;
    b.setAttribute("aria-pressed", String(on));
    b.classList.toggle("on", on);
    for (const n of Object.values(targets(card))) if (n && !on) n.classList.remove("translated");
  }
  function translateButton(card) {
    const h2 = card.querySelector("h2.title");
    if (!h2 || h2.querySelector("button.title-translate")) return;
    const b = el("button", "title-translate notranslate", label(settings().lang));
    b.type = "button";
    b.setAttribute("aria-pressed", "false");
    b.title = "Switch between the original and its translation (Settings: language, what to translate)";
    h2.append(b);
  }
  // Show the kept translation (true), asking for what is missing when `askMissing`.
  async function translate(card, askMissing) {
    const s = settings(), lang = s.lang, run = (card.run = (card.run || 0) + 1);
    const tasks = tasksFor(s);
    let missing = tasks.filter((t) => !have.has(`${lang}|${t}|${card.id}`));
    for (const t of missing) {
      const got = await kept([card.id], t, lang);
      if (got[card.id]) have.set(`${lang}|${t}|${card.id}`, got[card.id].html);
    }
    missing = tasks.filter((t) => !have.has(`${lang}|${t}|${card.id}`));
    if (missing.length && !askMissing) return false;
    if (run !== card.run) return false;
    keepOriginal(card);
    card.dataset.translated = lang;
    toggleState(card);
    for (const t of tasks) if (have.has(`${lang}|${t}|${card.id}`)) put(card, t, have.get(`${lang}|${t}|${card.id}`));
    const b = card.querySelector("button.title-translate");
    try {
      await Promise.all(missing.map(async (t) => {
        const j = await ask(card.id, t, lang, (x) => { if (run === card.run) put(card, t, x.partial_html); });
        have.set(`${lang}|${t}|${card.id}`, j.html);
        if (run === card.run) put(card, t, j.html);
      }));
      if (b) b.title = "Switch between the original and its translation";
    } catch (e) {
      if (b) { b.title = `Translation failed: ${e.message}`; b.classList.add("failed"); }
      note(card, `Translation: ${e.message}`);
      if (run === card.run) restore(card);
      return false;
    }
    if (run === card.run) changed(card);
    return true;
  }
  // Every card of the page: the kept translations, in a few requests (nothing is asked for:
  // a card without one keeps its [译], which asks).
  let pageOn = false;
  async function translateAll(list) {
    const s = settings(), lang = s.lang;
    for (const t of tasksFor(s)) {
      const ids = list.map((c) => c.id).filter((id) => !have.has(`${lang}|${t}|${id}`));
      const got = await kept(ids, t, lang);
      for (const [id, x] of Object.entries(got)) have.set(`${lang}|${t}|${id}`, x.html);
    }
    if (!pageOn) return;
    for (const c of list) {
      if (c.dataset.translated) continue;
      if (tasksFor(s).every((t) => have.has(`${lang}|${t}|${c.id}`))) await translate(c, false);
    }
  }
  function pageButton() {
    const bar = document.getElementById("reader-bar");
    if (!bar || document.getElementById("texts-translate-all")) return;
    const b = el("button", "texts-all notranslate", label(settings().lang).replace(/[[\]]/g, ""));
    b.id = "texts-translate-all";
    b.type = "button";
    b.setAttribute("aria-pressed", "false");
    b.title = "Translate every card (those translated already); Settings: language, what to translate";
    const settingsBtn = document.getElementById("reader-settings-btn");
    if (settingsBtn) settingsBtn.before(b); else bar.append(b);
  }
  async function setPage(on) {
    pageOn = on;
    const b = document.getElementById("texts-translate-all");
    if (b) { b.setAttribute("aria-pressed", String(on)); b.classList.toggle("on", on); }
    if (on) await translateAll(allCards()); else for (const c of allCards()) if (c.dataset.translated) restore(c);
  }
  // a new language or choice of fields: the translations shown are of the old one
  function relabel() {
    const s = settings();
    for (const b of document.querySelectorAll("button.title-translate")) b.textContent = label(s.lang);
    const all = document.getElementById("texts-translate-all");
    if (all) all.textContent = label(s.lang).replace(/[[\]]/g, "");
    for (const c of allCards()) if (c.dataset.translated) restore(c);
    if (pageOn) translateAll(allCards());
  }

  // ---- the reader's Settings panel (reader.js), a section of ours --------------------------
  async function settingsSection(panel) {
    await ready;
    if (!panel || panel.querySelector("fieldset.texts-settings")) return;
    const s = settings();
    const show = el("input");
    show.type = "checkbox";
    show.id = "texts-tldr";
    show.checked = !!s.tldr;
    show.addEventListener("change", () => {
      save({ ...settings(), tldr: show.checked });
      applyTldrSetting();
      if (show.checked) loadTldrs(allCards());
    });
    const lang = el("select");
    lang.id = "texts-lang";
    const langs = [...info.languages];
    if (!langs.some((l) => l.code === s.lang)) langs.push({ code: s.lang, name: s.lang });
    for (const l of langs) {
      const o = el("option", "", l.code === "zh" ? "中文 (简体)" : l.name);
      o.value = l.code;
      lang.append(o);
    }
    lang.value = s.lang;
    lang.addEventListener("change", () => { save({ ...settings(), lang: lang.value }); relabel(); });
    const fields = el("select");
    fields.id = "texts-fields";
    for (const [v, name] of [["both", "title and abstract"], ["abstract", "abstract only"]]) {
      const o = el("option", "", name);
      o.value = v;
      fields.append(o);
    }
    fields.value = s.fields === "abstract" ? "abstract" : "both";
    fields.addEventListener("change", () => { save({ ...settings(), fields: fields.value }); relabel(); });
    const box = el("fieldset", "texts-settings");
    const l1 = el("label"), l2 = el("label"), l3 = el("label");
    l1.append(show, " show TL;DRs under the titles");
    l2.append("Translate into ", lang);
    l3.append(" what: ", fields);
    box.append(el("legend", "", "TL;DR and translation"), l1, el("br"), l2, l3);
    if (!info.configured) box.append(el("p", "reader-help", "No model is configured on this server: only texts kept already are shown."));
    const help = panel.querySelector("p.reader-help");
    if (help) help.before(box); else panel.append(box);
  }

  // ---- events ------------------------------------------------------------------------------
  document.addEventListener("click", (ev) => {
    const t = ev.target;
    if (!t.closest) return;
    const tl = t.closest("button.title-tldr");
    if (tl) { askTldr(tl.closest("div.paper"), tl); return; }
    const tr = t.closest("button.title-translate");
    if (tr) {
      const card = tr.closest("div.paper");
      tr.classList.remove("failed");
      note(card, "");
      if (card.dataset.translated) restore(card); else translate(card, true);
      return;
    }
    if (t.closest("#texts-translate-all")) setPage(!pageOn);
  });
  document.addEventListener("reader:settings", (e) => settingsSection(e.detail && e.detail.panel));

  async function decorate(list) {
    applyTldrSetting();
    loadTldrs(list);
    await ready;
    if (info.configured) for (const c of list) translateButton(c);
    pageButton();
    if (pageOn) translateAll(list);
  }
  window.coolpapersTexts = { settings, translate, setPage };
  const init = () => decorate(allCards());
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
  document.addEventListener("papers:added", () => decorate(allCards().filter((c) => !c.dataset.tldr)));
})();
