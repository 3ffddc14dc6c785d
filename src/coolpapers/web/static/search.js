// coolpapers search: query words highlighted (&highlight=1), [REL] related papers inline, and
// the reader's taste kept in this browser only (localStorage, no account): preference keywords
// and clicked papers drive the ❤ sort of a listing (POST /api/taste) and the Track word cloud.
// The taste is app.js's one store (coolpapersTasteStore), shared with reader.js's Settings and
// sort; the ❤ beside "Total" is the bar's ❤ sort, of the whole day.
"use strict";
(() => {
  const MAX_CLICKED = 200;
  const store = window.coolpapersTasteStore;
  const load = () => store.load();
  const save = (t) => store.save(t);
  const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const el = (tag, attrs = {}, text = "") => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text) e.textContent = text;
    return e;
  };

  // ---- &highlight=1: mark the query words (by a crude stem) in titles and abstracts ----------
  function highlight() {
    const box = document.querySelector("div.papers[data-highlight]");
    if (!box) return;
    const stems = box.dataset.highlight.split(/\s+/)
      .map((w) => w.toLowerCase().replace(/(ing|ed|es|s)$/, ""))
      .filter((w) => w.length > 1).map(escapeRe);
    if (!stems.length) return;
    const re = new RegExp(`\\b(?:${stems.join("|")})[\\p{L}\\p{N}]*`, "giu");
    for (const root of box.querySelectorAll("a.title-link, p.summary")) {
      const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
        // math is typeset from its text: never split it
        acceptNode: (n) => (n.parentElement.closest(".math, mark") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
      });
      const nodes = [];
      while (walk.nextNode()) nodes.push(walk.currentNode);
      for (const n of nodes) {
        const text = n.nodeValue;
        const hits = [...text.matchAll(re)];
        if (!hits.length) continue;
        const frag = document.createDocumentFragment();
        let last = 0;
        for (const m of hits) {
          frag.append(text.slice(last, m.index), el("mark", {}, m[0]));
          last = m.index + m[0].length;
        }
        frag.append(text.slice(last));
        n.replaceWith(frag);
      }
    }
  }

  // ---- [REL]: related papers inline, loaded once, toggled after ------------------------------
  async function related(a) {
    const card = a.closest("div.paper");
    let panel = card.querySelector("div.rel-panel");
    if (panel) { panel.hidden = !panel.hidden; return; }
    panel = el("div", { class: "rel-panel" }, "loading related papers…");
    (card.querySelector("p.summary") || a.closest("h2")).after(panel);
    try {
      const r = await fetch(`/arxiv/related/${a.dataset.paper}?fragment=1`);
      if (!r.ok) throw new Error(r.status);
      panel.innerHTML = await r.text(); // server-rendered and escaped (web/render.py)
      if (window.typeset) window.typeset(panel);
    } catch (e) { panel.textContent = "Could not load related papers."; }
  }

  // ---- reading history: the papers the reader opened ---------------------------------------
  function remember(card) {
    const t = load();
    const kw = (card.getAttribute("keywords") || "").split(",").map((s) => s.trim()).filter(Boolean);
    t.clicked = t.clicked.filter((c) => c.id !== card.id);
    t.clicked.push({ id: card.id, kw, at: Date.now() });
    t.clicked = t.clicked.slice(-MAX_CLICKED);
    save(t);
  }

  // ---- ❤: the bar's taste sort (reader.js), of the whole day, on and off -----------------------
  function heart() {
    const papers = document.querySelector("div.papers");
    const info = document.querySelector("p.info");
    if (!papers || !info || papers.querySelectorAll(":scope > div.paper").length < 2) return;
    const btn = el("button", { class: "heart", type: "button", "aria-pressed": "false", title: "Sort the whole day by your taste (Track: keywords and papers you opened)" }, "❤");
    info.append(" ", btn);
    // the button shows the sort in force, whoever chose it (this button or the bar's menu)
    document.addEventListener("reader:sorted", (e) => {
      const on = e.detail.how === "taste";
      btn.classList.toggle("on", on);
      btn.setAttribute("aria-pressed", String(on));
    });
    btn.addEventListener("click", () => {
      if (typeof window.coolpapersSort !== "function") return;
      if (papers.dataset.sorted === "taste") { window.coolpapersSort("arxiv"); return; }
      const t = load();
      if (!t.keywords.length && !t.clicked.length) {
        btn.title = "Nothing to sort by yet: open some papers or add keywords in Track.";
        track(true);
        return;
      }
      window.coolpapersSort("taste");
    });
  }

  // ---- Track: preference keywords and the word cloud of the reading history ----------------
  function track(open) {
    let panel = document.getElementById("track");
    if (panel && !open) { panel.hidden = !panel.hidden; if (panel.hidden) return; }
    if (!panel) {
      panel = el("section", { id: "track", class: "track panel" });
      document.querySelector("main").prepend(panel);
    }
    panel.hidden = false;
    const t = load();
    panel.replaceChildren();
    panel.append(el("h2", {}, "Track: your taste (kept in this browser only)"),
      el("p", { class: "muted" }, "Your keywords sort the day with ❤ (the ❤ beside Total, or the bar's sort); Settings (⚙) shows the same list."));
    const form = el("form", { class: "track-add" });
    const input = el("input", { type: "text", placeholder: "add a keyword, e.g. linear attention", "aria-label": "Keyword" });
    form.append(input, el("button", {}, "Add"));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const w = input.value.trim();
      const t2 = load();
      if (w && !t2.keywords.includes(w)) { t2.keywords.push(w); save(t2); }
      track(true);
    });
    const kws = el("p", { class: "track-keywords" });
    for (const w of t.keywords) {
      const chip = el("button", { type: "button", class: "chip", title: "remove" }, `${w} ✕`);
      chip.addEventListener("click", () => { const t2 = load(); t2.keywords = t2.keywords.filter((x) => x !== w); save(t2); track(true); });
      kws.append(chip);
    }
    panel.append(form, kws);
    // word cloud: keywords of the opened papers, sized by how often they come back
    const counts = new Map();
    for (const c of t.clicked) for (const w of c.kw || []) counts.set(w, (counts.get(w) || 0) + 1);
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 60);
    const cloud = el("p", { class: "cloud" });
    const max = top.length ? top[0][1] : 1;
    for (const [w, n] of top.sort((a, b) => a[0].localeCompare(b[0]))) {
      const b = el("button", { type: "button", class: "word", title: `${n} paper(s); click to add as a keyword` }, w);
      b.style.fontSize = `${0.8 + 1.2 * (n / max)}em`;
      b.addEventListener("click", () => { const t2 = load(); if (!t2.keywords.includes(w)) t2.keywords.push(w); save(t2); track(true); });
      cloud.append(b);
    }
    panel.append(el("h3", {}, `Reading history: ${t.clicked.length} paper(s)`), top.length ? cloud : el("p", { class: "muted" }, "Open some papers: their keywords show up here."));
    const clear = el("button", { type: "button", class: "clear" }, "Forget my history");
    clear.addEventListener("click", () => { const t2 = load(); t2.clicked = []; save(t2); track(true); });
    panel.append(clear);
  }

  function init() {
    highlight();
    heart();
    const header = document.querySelector("header.top");
    if (header) {
      const b = el("button", { type: "button", class: "track-toggle", title: "Your taste: keywords and reading history" }, "Track");
      b.addEventListener("click", () => track(false));
      header.append(b);
    }
    document.addEventListener("click", (e) => {
      const a = e.target.closest("a");
      if (!a) return;
      if (a.matches("a.title-rel[data-paper]")) { e.preventDefault(); related(a); }
      const card = a.closest("div.paper");
      if (card && a.matches("a.title-link, a.title-pdf, a.title-html, a.title-rel, a.title-kimi")) remember(card);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
