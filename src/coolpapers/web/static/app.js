// coolpapers: math typesetting, progressive listings, the home page's category picker.
// The pages are complete HTML without this script; it only adds comfort.
"use strict";

// Typeset the math spans that web/render.py marked; they carry translate="no" so that page
// translation leaves them alone. Rendering goes span by span, so bad TeX in one abstract
// shows as its source and never breaks the rest of the page.
function typeset(root) {
  if (!window.katex) return;
  for (const el of root.querySelectorAll("span.math:not([data-done])")) {
    let src = el.textContent;
    const display = el.classList.contains("display");
    src = src.replace(/^\$\$([\s\S]*)\$\$$/, "$1").replace(/^\$([\s\S]*)\$$/, "$1")
      .replace(/^\\\(([\s\S]*)\\\)$/, "$1").replace(/^\\\[([\s\S]*)\\\]$/, "$1");
    try {
      katex.render(src, el, { displayMode: display, throwOnError: false, strict: "ignore" });
      el.dataset.done = "1";
    } catch (e) { el.dataset.done = "error"; }
  }
}

// Long days: the first cards come with the page; the rest arrive as the reader scrolls, or all
// at once when the reader tools need the whole day (a sort, a filter): coolpapersLoadAll().
// One request at a time, whoever asks; each batch ends with a "papers:added" event.
let moreInFlight = null;
function moreBox() { return document.querySelector("div.papers[data-more]"); }
function moreLeft() {
  const papers = moreBox();
  return papers ? Math.max(0, +papers.dataset.total - +papers.dataset.shown) : 0;
}
async function loadMore(limit) {
  while (moreInFlight) await moreInFlight;
  const papers = moreBox();
  const more = document.querySelector("p.more");
  if (!papers || !moreLeft()) return 0;
  const p = (async () => {
    const shown = +papers.dataset.shown;
    const spin = more && more.querySelector(".loading");
    if (spin) spin.hidden = false;
    let n = 0;
    try {
      const r = await fetch(`${papers.dataset.more}&offset=${shown}&limit=${limit}`);
      if (!r.ok) throw new Error(r.status);
      const tpl = document.createElement("template");
      tpl.innerHTML = await r.text();
      const cards = [...tpl.content.querySelectorAll("div.paper")];
      n = cards.length;
      // the titles as the index lists them, the TeX as written: read before typesetting
      indexAdd(cards);
      typeset(tpl.content);
      papers.append(tpl.content);
      papers.dataset.shown = shown + n;
      // nothing more to come (or the server has fewer than it said): no more loading
      if (!moreLeft() || n === 0) { papers.dataset.shown = papers.dataset.total; if (more) more.remove(); }
      document.dispatchEvent(new CustomEvent("papers:added", { detail: { count: n } }));
    } catch (e) { console.warn("could not load more papers", e); }
    if (spin && spin.isConnected) spin.hidden = true;
    return n;
  })();
  moreInFlight = p;
  try { return await p; } finally { if (moreInFlight === p) moreInFlight = null; }
}
// papers.cool's "Index of the N papers on this page" (details.index > div.items, which the
// Zotero translator lists) follows the cards as they arrive, in the server's markup
// (_card.html's index macro): one p > a.i-title[href="#id"] per card.
function indexAdd(cards) {
  const items = document.querySelector("details.index div.items");
  if (!items || !cards.length) return;
  for (const card of cards) {
    const title = card.querySelector("a.title-link");
    const p = document.createElement("p");
    const a = document.createElement("a");
    a.className = "i-title";
    a.href = `#${card.id}`;
    a.textContent = title ? title.textContent.trim() : card.id;
    p.append(a);
    items.append(p);
  }
  const n = items.querySelectorAll("a.i-title").length;
  const summary = items.closest("details.index").querySelector("summary");
  if (summary) summary.textContent = `Index of the ${n} paper${n === 1 ? "" : "s"} on this page`;
}

// The rest of the day, in a few big requests; true once every card is on the page.
async function loadAll() {
  while (moreLeft()) {
    if (!(await loadMore(Math.min(moreLeft(), 1000)))) return false;
  }
  return true;
}
window.coolpapersLoadAll = loadAll;
window.coolpapersMoreLeft = moreLeft;

function progressive() {
  const more = document.querySelector("p.more");
  if (!moreBox() || !more || !moreLeft()) return;
  const obs = new IntersectionObserver((es) => {
    if (!more.isConnected || !moreLeft()) { obs.disconnect(); return; }
    // scrolling asks for the next batch; a load already under way (a sort's, a filter's) will do
    if (moreInFlight || !es.some((e) => e.isIntersecting)) return;
    // observe afresh after a batch: if the marker is still in reach (short cards, or a sorted
    // page placed them above it) the next batch follows without waiting for a scroll
    loadMore(100).then((n) => { if (n && more.isConnected) { obs.unobserve(more); obs.observe(more); } });
  }, { rootMargin: "1200px" });
  obs.observe(more);
}

// The reader's taste, one store for every page: search.js's ❤ and Track, reader.js's sort and
// Settings all read and write it. {keywords: ["linear attention", ...], clicked: [{id, kw, at}]},
// kept in this browser only. It replaces two stores that had drifted apart (Track's
// "coolpapers.taste" and Settings' "coolpapers.prefs.keywords", one keyword a line): what is
// found under those keys is merged in and the keys removed, at every read, so that nobody loses
// a keyword, even one written by a tab still running the old script.
const TASTE_KEY = "coolpapers.reader.taste";
const OLD_TASTE_KEY = "coolpapers.taste";
const OLD_PREFS_KEY = "coolpapers.prefs.keywords";
const MAX_KEYWORDS = 200; // what POST /api/taste takes
function readJson(key) {
  try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
}
function tidyKeywords(list) {
  const seen = new Set();
  const out = [];
  for (const w of list) {
    const k = String(w || "").trim();
    if (k && !seen.has(k.toLowerCase())) { seen.add(k.toLowerCase()); out.push(k); }
  }
  return out.slice(0, MAX_KEYWORDS);
}
const tasteStore = {
  load() {
    const t = readJson(TASTE_KEY) || {};
    let keywords = Array.isArray(t.keywords) ? t.keywords : [];
    let clicked = Array.isArray(t.clicked) ? t.clicked : [];
    let old = null, prefs = null;
    try { old = localStorage.getItem(OLD_TASTE_KEY); prefs = localStorage.getItem(OLD_PREFS_KEY); } catch (e) { /* private mode */ }
    if (old !== null || prefs !== null) {
      const o = readJson(OLD_TASTE_KEY) || {};
      keywords = [...keywords, ...(Array.isArray(o.keywords) ? o.keywords : []), ...(prefs || "").split("\n")];
      const ids = new Set(clicked.map((c) => c && c.id));
      for (const c of Array.isArray(o.clicked) ? o.clicked : []) if (c && !ids.has(c.id)) clicked.push(c);
      clicked.sort((a, b) => (a.at || 0) - (b.at || 0));
      const merged = { keywords: tidyKeywords(keywords), clicked };
      // the old keys go only once the merged store is written
      if (tasteStore.save(merged)) {
        try { localStorage.removeItem(OLD_TASTE_KEY); localStorage.removeItem(OLD_PREFS_KEY); } catch (e) { /* private mode */ }
      }
      return merged;
    }
    return { keywords: tidyKeywords(keywords), clicked };
  },
  save(t) {
    try {
      localStorage.setItem(TASTE_KEY, JSON.stringify({ keywords: tidyKeywords(t.keywords || []), clicked: t.clicked || [] }));
      return true;
    } catch (e) { return false; } // private mode, full
  },
  setKeywords(list) { const t = tasteStore.load(); t.keywords = tidyKeywords(list); tasteStore.save(t); return t.keywords; },
};
window.coolpapersTasteStore = tasteStore;

// Home page: a tri-state picker (follow / exclude / ignore) kept in localStorage that builds
// the reader's own listing URL in papers.cool's syntax (cs.AI+cs.LG-cs.CY).
const STATES = ["ignore", "follow", "exclude"];
const MARK = { ignore: "○", follow: "✓", exclude: "✗" };
function picker() {
  const link = document.getElementById("my-listing");
  if (!link) return;
  const dateInput = document.getElementById("my-date");
  // the calendar: a GET form and day links built server-side for the instance's watched
  // categories (a new visitor's listing); once the reader picks, they open the reader's own
  const form = document.getElementById("my-day");
  const fallback = form ? form.dataset.default : "";
  let picks = {};
  try { picks = JSON.parse(localStorage.getItem("coolpapers.picks") || "{}"); } catch (e) { picks = {}; }
  const update = () => {
    const follow = Object.keys(picks).filter((c) => picks[c] === "follow").sort();
    const exclude = Object.keys(picks).filter((c) => picks[c] === "exclude").sort();
    for (const b of document.querySelectorAll("button.pick")) {
      const st = picks[b.dataset.cat] || "ignore";
      b.className = `pick ${st}`;
      b.textContent = MARK[st];
      b.setAttribute("aria-pressed", st === "ignore" ? "false" : "true");
      b.title = st;
    }
    const mine = follow.length ? `/arxiv/${follow.join("+")}${exclude.map((c) => `-${c}`).join("")}` : "";
    if (mine) {
      const d = dateInput && dateInput.value ? `?date=${dateInput.value}` : "";
      link.href = mine + d;
      link.textContent = mine + d;
    } else {
      link.removeAttribute("href");
      link.textContent = "pick categories below";
    }
    const days = mine || fallback;
    if (days) {
      if (form) form.action = days;
      for (const a of document.querySelectorAll("a.day-link")) a.href = `${days}?date=${a.dataset.date}`;
      for (const s of document.querySelectorAll(".day-cats")) s.textContent = days.slice("/arxiv/".length);
    }
    localStorage.setItem("coolpapers.picks", JSON.stringify(picks));
  };
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("button.pick");
    if (!b) return;
    const cur = picks[b.dataset.cat] || "ignore";
    const next = STATES[(STATES.indexOf(cur) + 1) % STATES.length];
    if (next === "ignore") delete picks[b.dataset.cat]; else picks[b.dataset.cat] = next;
    update();
  });
  document.getElementById("my-clear").addEventListener("click", () => { picks = {}; update(); });
  if (dateInput) dateInput.addEventListener("change", update);
  update();
}

document.addEventListener("DOMContentLoaded", () => {
  tasteStore.load(); // moves a taste kept under the old keys into the one store, once
  typeset(document);
  progressive();
  picker();
});
