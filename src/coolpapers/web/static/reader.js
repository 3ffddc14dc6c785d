// coolpapers reader tools: the bottom bar (filter, stars, sort, settings, top/bottom), stars,
// [Copy] with BibTeX, the inline PDF panel, subject follow/exclude, keyboard navigation, theme.
// Everything the reader sets stays in this browser (localStorage); the listing is complete
// HTML without this script, which only adds comfort.
"use strict";
(() => {
  const KEY = {
    stars: "coolpapers.stars",          // [{id, title, at}] newest last
    removed: "coolpapers.stars.removed", // unstarred recently, for "restore"
    filter: "coolpapers.filter",        // {inc, exc, mode: "or"|"and", only}
    theme: "coolpapers.theme",          // "light" | "dark" | absent (follow the system)
    lang: "coolpapers.faq.lang",        // read by faq.js
    picks: "coolpapers.picks",          // {code: "follow"|"exclude"}: app.js's home picker
  };
  // the reader's taste (❤ sort, Settings' preference keywords, Track): app.js's one store
  const tasteStore = window.coolpapersTasteStore;
  const get = (k, dflt) => {
    try { const v = localStorage.getItem(k); return v === null ? dflt : JSON.parse(v); } catch (e) { return dflt; }
  };
  const put = (k, v) => { try { localStorage.setItem(k, JSON.stringify(v)); } catch (e) { /* private mode, full */ } };
  const getText = (k) => { try { return localStorage.getItem(k) || ""; } catch (e) { return ""; } };
  const putText = (k, v) => { try { localStorage.setItem(k, v); } catch (e) { /* private mode */ } };
  const el = (tag, attrs = {}, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
    }
    e.append(...kids);
    return e;
  };
  const papersBox = () => document.querySelector("div.papers");
  const cards = () => [...document.querySelectorAll("div.papers div.paper")];

  // ---- theme: applied first, so that the page does not stay in the wrong colours long -----
  const applyTheme = () => {
    const t = getText(KEY.theme);
    if (t === "light" || t === "dark") document.documentElement.dataset.theme = t;
    else delete document.documentElement.dataset.theme;
  };
  applyTheme();

  // ---- reading a card: plain text with TeX source for typeset math (for copy and stars) ----
  function plain(node) {
    if (!node) return "";
    const c = node.cloneNode(true);
    for (const m of c.querySelectorAll("span.math")) {
      const tex = m.querySelector('annotation[encoding="application/x-tex"]');
      // typeset math keeps its source in MathML's annotation; untypeset math is its source
      if (tex) m.replaceWith(`$${tex.textContent}$`);
    }
    return c.textContent.replace(/\s+/g, " ").trim();
  }
  // The card carries its links and, without a publish time, a stand-in to sort by
  // (data-page, data-time): they come from the paper's source, which this file knows nothing of.
  function meta(card) {
    const authors = [...new Set([...card.querySelectorAll("p.authors a.author")].map((a) => a.textContent.trim()))];
    const time = card.querySelector("p.date time");
    return {
      id: card.id, authors,
      title: plain(card.querySelector("a.title-link")),
      page: card.dataset.page || "",
      published: time ? Date.parse(time.dateTime) : +(card.dataset.time || 0),
    };
  }

  // ---- stars -------------------------------------------------------------------------------
  const stars = () => get(KEY.stars, []);
  const isStarred = (id) => stars().some((s) => s.id === id);
  function setStar(card, on) {
    let list = stars().filter((s) => s.id !== card.id);
    let removed = get(KEY.removed, []).filter((s) => s.id !== card.id);
    if (on) list.push({ id: card.id, title: meta(card).title, at: Date.now() });
    else {
      const old = stars().find((s) => s.id === card.id);
      if (old) removed = [...removed, old].slice(-50);
    }
    put(KEY.stars, list);
    put(KEY.removed, removed);
    refreshStars();
  }
  function refreshStars() {
    const ids = new Set(stars().map((s) => s.id));
    for (const b of document.querySelectorAll("button.reader-star")) {
      const on = ids.has(b.closest("div.paper").id);
      b.textContent = on ? "★" : "☆";
      b.setAttribute("aria-pressed", String(on));
      b.closest("div.paper").classList.toggle("starred", on);
    }
    const n = document.getElementById("reader-star-count");
    if (n) n.textContent = String(ids.size);
    if (panelShown === "stars") showStars();
  }

  // ---- per-card buttons: star and [Copy] (added on load and to cards loaded later) ---------
  function decorate() {
    const ids = new Set(stars().map((s) => s.id));
    for (const card of document.querySelectorAll("div.paper:not([data-reader])")) {
      card.dataset.reader = "1";
      card.tabIndex = -1; // focusable by j/k, not a Tab stop
      const h2 = card.querySelector("h2.title");
      if (!h2) continue;
      const on = ids.has(card.id);
      card.classList.toggle("starred", on);
      h2.append(
        el("button", { type: "button", class: "title-copy notranslate", "aria-label": "Copy title, authors, link and BibTeX" }, "[Copy]"),
        el("button", { type: "button", class: "reader-star", "aria-pressed": String(on), "aria-label": "Star this paper", title: "Star (s)" }, on ? "★" : "☆"),
      );
    }
  }

  // ---- [Copy]: the clipboard, leaving the reader's text selection as it was ---------------
  let savedRanges = [];
  const saveSelection = () => {
    const s = getSelection();
    savedRanges = s ? [...Array(s.rangeCount).keys()].map((i) => s.getRangeAt(i).cloneRange()) : [];
  };
  const restoreSelection = () => {
    const s = getSelection();
    if (!s) return;
    s.removeAllRanges();
    for (const r of savedRanges) s.addRange(r);
  };
  // The BibTeX entry is the source's (GET /api/papers/<id>/bibtex). The clipboard is handed a
  // promise of the text at once, so the click's user activation covers the fetch; where
  // ClipboardItem cannot wait on one, the text is written after the fetch.
  const bibtex = (id) => fetch(`/api/papers/${encodeURIComponent(id).replace(/%2F/g, "/")}/bibtex`)
    .then((r) => (r.ok ? r.text() : ""))
    .catch(() => "");
  async function copy(card, btn) {
    const m = meta(card);
    const text = bibtex(m.id).then((b) => `${m.title}\n${m.authors.join(", ")}\n${m.page}\n${b ? `\n${b}\n` : ""}`);
    try {
      try {
        const blob = text.then((t) => new Blob([t], { type: "text/plain" }));
        await navigator.clipboard.write([new ClipboardItem({ "text/plain": blob })]);
      } catch (e) {
        await navigator.clipboard.writeText(await text);
      }
    } catch (e) {
      // old browsers, plain http on a LAN: the textarea trick moves the selection, so put it back
      const ta = el("textarea", { "aria-hidden": "true", style: "position:fixed;left:-9999px" });
      ta.value = await text;
      document.body.append(ta);
      ta.select();
      document.execCommand("copy");
      ta.remove();
    }
    restoreSelection();
    btn.textContent = "[Copied]";
    setTimeout(() => { btn.textContent = "[Copy]"; }, 1500);
  }

  // ---- the inline PDF (from the source, never re-hosted) and the fold button -------------
  // Narrow screens keep the plain link: phones show a PDF in a frame badly, their viewer well.
  const inlinePdf = () => matchMedia("(min-width: 700px)").matches;
  function togglePdf(card, link) {
    let panel = card.querySelector("div.pdf-panel");
    if (panel) { panel.hidden = !panel.hidden; return foldState(card); }
    panel = el("div", { class: "pdf-panel", role: "region", "aria-label": `PDF of ${card.id}` },
      el("div", { class: "pdf-bar" },
        el("a", { href: link.href, target: "_blank", rel: "noopener" }, "open in a new tab"),
      ),
      el("iframe", { src: link.href, title: `PDF of ${card.id}`, loading: "lazy" }),
    );
    card.append(panel);
    foldState(card);
  }
  // The fold button shows while a PDF or FAQ panel of the card is open, and closes them all.
  function foldState(card) {
    const open = [...card.querySelectorAll("div.pdf-panel, div.faq-panel")].some((p) => !p.hidden);
    let b = card.querySelector("button.reader-fold");
    if (!b && open) {
      b = el("button", { type: "button", class: "reader-fold", "aria-label": "Fold the PDF and FAQ panels" }, "▲ fold");
      card.querySelector("h2.title").append(b);
    }
    if (b) b.hidden = !open;
  }
  function fold(card) {
    for (const p of card.querySelectorAll("div.pdf-panel, div.faq-panel")) p.hidden = true;
    foldState(card);
    card.scrollIntoView({ block: "nearest" });
  }

  // ---- subjects: + follow / − exclude, feeding the home page's picker ---------------------
  let tools = null;
  function subjectTools(a) {
    if (!tools) {
      tools = el("span", { class: "subject-tools", role: "group", "aria-label": "Home page picker" },
        el("button", { type: "button", "data-st": "follow" }, "+"),
        el("button", { type: "button", "data-st": "exclude" }, "−"));
    }
    const code = a.dataset.cat;
    const picks = get(KEY.picks, {});
    for (const b of tools.children) {
      const st = b.dataset.st;
      b.setAttribute("aria-pressed", String(picks[code] === st));
      b.setAttribute("aria-label", `${st} ${code} on the home page`);
      b.title = `${st === "follow" ? "Follow" : "Exclude"} ${code} in your listing (home page)`;
    }
    tools.dataset.cat = code;
    if (a.nextSibling !== tools) a.after(tools);
  }
  function pick(code, st) {
    const picks = get(KEY.picks, {});
    if (picks[code] === st) delete picks[code]; else picks[code] = st;
    put(KEY.picks, picks);
  }

  // ---- the filter: include / exclude keywords, OR / AND, highlights that avoid math --------
  const lines = (s) => (s || "").split("\n").map((w) => w.trim().toLowerCase()).filter(Boolean);
  const textCache = new WeakMap();
  const FIELDS = "a.title-link, p.summary, p.authors, p.tldr"; // p.tldr: texts.js's
  // Text nodes a reader sees in title, abstract and authors, outside typeset math (splitting a
  // KaTeX subtree would break it, and its text is not what the reader reads anyway).
  function textNodes(card) {
    const out = [];
    for (const root of card.querySelectorAll(FIELDS)) {
      const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
        acceptNode: (n) => (n.parentElement.closest(".math, .katex") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
      });
      while (walk.nextNode()) out.push(walk.currentNode);
    }
    return out;
  }
  function cardText(card) {
    let t = textCache.get(card);
    if (t === undefined) {
      t = [...card.querySelectorAll(FIELDS)].map((e) => plain(e)).join("\n").toLowerCase();
      textCache.set(card, t);
    }
    return t;
  }
  // texts.js changed a card (its TL;DR came, a translation shown): read it again
  let refilter = 0;
  document.addEventListener("card:text", (e) => {
    textCache.delete(e.detail.card);
    const f = get(KEY.filter, null);
    if (f && (f.inc || f.exc)) { clearTimeout(refilter); refilter = setTimeout(applyFilter, 100); }
  });
  const hasHighlights = typeof Highlight === "function" && window.CSS && CSS.highlights;
  function clearMarks() {
    if (hasHighlights) { CSS.highlights.delete("reader-filter"); return; }
    for (const m of document.querySelectorAll("mark.reader-hl")) {
      const parent = m.parentNode;
      m.replaceWith(m.textContent);
      parent.normalize();
    }
  }
  function highlight(matched, words) {
    if (!words.length) return;
    const re = new RegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "gi");
    const ranges = [];
    for (const card of matched) {
      for (const n of textNodes(card)) {
        for (const m of n.nodeValue.matchAll(re)) {
          if (!m[0]) continue;
          const r = new Range();
          r.setStart(n, m.index);
          r.setEnd(n, m.index + m[0].length);
          ranges.push(r);
        }
      }
    }
    if (hasHighlights) { CSS.highlights.set("reader-filter", new Highlight(...ranges)); return; }
    // without the Highlight API: wrap, last range first so earlier offsets stay valid
    for (const r of ranges.reverse()) r.surroundContents(el("mark", { class: "reader-hl" }));
  }
  function applyFilter() {
    const t0 = performance.now();
    const f = get(KEY.filter, { inc: "", exc: "", mode: "or", only: false });
    const inc = lines(f.inc), exc = lines(f.exc);
    const active = inc.length > 0 || exc.length > 0;
    const all = cards();
    const matched = [];
    clearMarks();
    for (const card of all) {
      const t = cardText(card);
      const good = (!inc.length || (f.mode === "and" ? inc.every((w) => t.includes(w)) : inc.some((w) => t.includes(w))))
        && !exc.some((w) => t.includes(w));
      card.classList.toggle("reader-miss", active && !good);
      card.hidden = active && f.only && !good;
      if (active && good) matched.push(card);
    }
    highlight(matched, inc);
    const c = document.getElementById("reader-filter-count");
    const box = papersBox();
    const total = box && box.dataset.total ? +box.dataset.total : all.length;
    // long days load as the reader scrolls: say how much of the day the count covers
    // (a filter loads the rest of the day: it covers all of it once there)
    if (active && moreLeft()) loadAll();
    const of = total > all.length ? ` (${all.length} of ${total} loaded${active && moreLeft() ? ", loading the rest…" : ""})` : "";
    if (c) c.textContent = (active ? `${matched.length} of ${all.length} match` : `${all.length} papers`) + of;
    const b = document.getElementById("reader-filter-btn");
    if (b) b.classList.toggle("on", active);
    // for whoever watches the filter (and for its speed test on a 1,000-paper page)
    document.dispatchEvent(new CustomEvent("reader:filtered", {
      detail: { ms: performance.now() - t0, matched: matched.length, total: all.length } }));
  }

  // ---- the whole day: a sort or a filter covers every paper of a long day, not only the cards
  // loaded so far (app.js's progressive loader fetches the rest: coolpapersLoadAll) -----------
  const moreLeft = () => (typeof window.coolpapersMoreLeft === "function" ? window.coolpapersMoreLeft() : 0);
  let loadingAll = null;
  function loadAll() {
    if (!moreLeft() || typeof window.coolpapersLoadAll !== "function") return Promise.resolve(true);
    if (!loadingAll) loadingAll = window.coolpapersLoadAll().finally(() => { loadingAll = null; });
    return loadingAll;
  }

  // ---- sorting: arXiv's order, publish time, ★ (global clicks), ❤ (the reader's taste) -----
  let original = null; // the children of div.papers in arXiv's order, headings included
  let sorted = null;   // {how, score: Map card -> number, rank: Map card -> arXiv position}
  let sortRun = 0;     // the latest sort asked for: an older one still loading gives way
  const byScore = (s) => (a, b) => (s.score.get(b) - s.score.get(a)) || (s.rank.get(a) - s.rank.get(b));
  async function scores(how, list) {
    if (how === "time") return new Map(list.map((c) => [c, meta(c).published]));
    if (how === "clicks") {
      const score = new Map(list.map((c) => [c, 0]));
      // counters of the FAQ feature: its API if there, else the numbers it shows on the cards
      try {
        for (let i = 0; i < list.length; i += 500) {
          const part = list.slice(i, i + 500);
          const r = await fetch(`/api/counters?ids=${encodeURIComponent(part.map((c) => c.id).join(","))}`);
          if (!r.ok) throw new Error(r.status);
          const j = await r.json();
          for (const c of part) score.set(c, ((j[c.id] || {}).pdf || 0) + ((j[c.id] || {}).faq || 0));
        }
      } catch (e) {
        for (const c of list) score.set(c, [...c.querySelectorAll("sup.click-count")].reduce((s, x) => s + (+x.textContent || 0), 0));
      }
      return score;
    }
    return taste(list);
  }
  function sortBusy(on) {
    const sel = document.getElementById("reader-sort");
    if (!sel) return;
    sel.setAttribute("aria-busy", String(on));
    sel.title = on ? "loading the rest of the day to sort all of it…" : "";
  }
  async function sortBy(how) {
    const box = papersBox();
    if (!box) return;
    const run = ++sortRun;
    if (how === "arxiv") {
      if (original) box.append(...original);
      original = null; sorted = null;
      box.dataset.sorted = how;
      sortDone(how);
      return;
    }
    // a long day is sorted whole: the rest of it first (one or two requests)
    if (moreLeft()) {
      sortBusy(true);
      await loadAll();
      sortBusy(false);
    }
    if (run !== sortRun) return;
    if (!original) original = [...box.children];
    const list = original.filter((e) => e.matches("div.paper"));
    const score = await scores(how, list);
    if (run !== sortRun) return;
    sorted = { how, score, rank: new Map(original.map((e, i) => [e, i])) };
    for (const h of box.querySelectorAll(":scope > h3.group")) h.remove(); // groups no longer apply
    box.append(...[...list].sort(byScore(sorted)));
    box.dataset.sorted = how; // done (the scores may take a request): for tests and styles
    sortDone(how);
    // cards that came while the scores were fetched
    const late = original.filter((e) => e.matches("div.paper") && !score.has(e));
    if (late.length) await placeNew(late);
  }
  // The sort in force, for the menu and whoever else shows it (search.js's ❤ beside "Total").
  function sortDone(how) {
    const sel = document.getElementById("reader-sort");
    if (sel) sel.value = how;
    document.dispatchEvent(new CustomEvent("reader:sorted", { detail: { how } }));
  }
  // One sort for the page, whichever control asks (the bar's menu, the ❤ beside "Total").
  window.coolpapersSort = (how) => {
    const sel = document.getElementById("reader-sort");
    if (sel) sel.value = how;
    return sortBy(how);
  };
  // Cards that arrive while the page is sorted go to their place in the order, not the end.
  async function placeNew(fresh) {
    const box = papersBox();
    const run = sortRun, s = sorted;
    if (!s || !fresh.length) return;
    if (s.how === "taste") { await sortBy("taste"); return; } // its scores rank the whole list
    const score = await scores(s.how, fresh);
    if (run !== sortRun || s !== sorted) return;
    for (const c of fresh) s.score.set(c, score.get(c));
    const fresh1 = new Set(fresh);
    const placed = [...box.children].filter((c) => !fresh1.has(c) && c.matches("div.paper"));
    const cmp = byScore(s);
    for (const c of [...fresh].sort(cmp)) {
      let lo = 0, hi = placed.length; // the first placed card that c goes before
      while (lo < hi) { const mid = (lo + hi) >> 1; if (cmp(c, placed[mid]) < 0) hi = mid; else lo = mid + 1; }
      if (lo < placed.length) box.insertBefore(c, placed[lo]); else box.append(c);
    }
  }
  async function taste(list) {
    const ids = list.map((c) => c.id);
    const score = new Map(list.map((c) => [c, 0]));
    const byId = new Map(list.map((c) => [c.id, c]));
    const fromOrder = (order) => order.forEach((id, i) => { if (byId.has(id)) score.set(byId.get(id), order.length - i); });
    const t = tasteStore.load();
    const keywords = t.keywords.map((w) => w.toLowerCase());
    try {
      const r = await fetch("/api/taste", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ids, keywords, clicked: (t.clicked || []).map((c) => c.id) }),
      });
      if (r.ok) { fromOrder((await r.json()).order.map((o) => o.id)); return score; }
    } catch (e) { /* no search feature here: score locally */ }
    for (const c of list) {
      const text = cardText(c);
      score.set(c, keywords.reduce((s, w) => s + text.split(w).length - 1, 0));
    }
    return score;
  }

  // ---- the bottom bar and its panels -------------------------------------------------------
  let bar = null, panel = null, panelShown = null;
  function button(label, attrs, onclick) {
    return el("button", { type: "button", ...attrs, onclick }, label);
  }
  function buildBar() {
    if (!papersBox()) return; // only pages with a list of papers
    panel = el("div", { id: "reader-panel", class: "reader-panel", role: "dialog", "aria-label": "Reader tools", hidden: "" });
    const sort = el("select", { id: "reader-sort", "aria-label": "Sort the papers",
      onchange: (e) => sortBy(e.target.value) },
    el("option", { value: "arxiv" }, "arXiv order"), el("option", { value: "time" }, "Publish time"),
    el("option", { value: "clicks" }, "★ clicks"), el("option", { value: "taste" }, "❤ taste"));
    bar = el("nav", { id: "reader-bar", class: "reader-bar", "aria-label": "Reader tools" },
      el("a", { href: "/", class: "reader-home", "aria-label": "Home: categories" }, "⌂"),
      button("Filter", { id: "reader-filter-btn", "aria-controls": "reader-panel", title: "Filter (/ or Ctrl+F)" }, () => toggle("filter")),
      button("★ ", { id: "reader-stars-btn", "aria-controls": "reader-panel", title: "Starred papers" }, () => toggle("stars")),
      sort,
      button("⚙", { id: "reader-settings-btn", "aria-controls": "reader-panel", "aria-label": "Settings" }, () => toggle("settings")),
      button("↑", { "aria-label": "Back to top" }, () => scrollTo({ top: 0 })),
      button("↓", { "aria-label": "To the bottom" }, () => scrollTo({ top: document.body.scrollHeight })),
    );
    bar.querySelector("#reader-stars-btn").append(el("span", { id: "reader-star-count" }, "0"));
    document.body.append(panel, bar);
    document.body.classList.add("has-reader-bar");
    // A long day (a sort, a filter load all of it): cards off screen skip style and layout, so
    // that reordering 1,000 of them costs a tenth (their real height is kept once seen). Only
    // there: Chromium's innerText of a skipped card is empty. Nothing in a card is positioned
    // outside it, which this containment would clip.
    const box = papersBox();
    if (Math.max(+box.dataset.total || 0, cards().length) > 300) {
      document.head.append(el("style", { id: "reader-long-day" },
        "div.papers > div.paper { content-visibility: auto; contain-intrinsic-size: auto 500px; }"));
    }
  }
  function toggle(which, focus = true) {
    if (panelShown === which) { panel.hidden = true; panelShown = null; return; }
    panelShown = which;
    panel.hidden = false;
    ({ filter: showFilter, stars: showStars, settings: showSettings })[which]();
    // the first field to type in, else the first control after the close button
    const first = focus && (panel.querySelector("textarea") || panel.querySelector("h2 ~ * :is(a, button, select, input)"));
    if (first) first.focus();
  }
  const closeBtn = () => button("✕", { class: "reader-close", "aria-label": "Close" }, () => { panel.hidden = true; panelShown = null; });

  function showFilter() {
    const f = get(KEY.filter, { inc: "", exc: "", mode: "or", only: false });
    let timer = 0;
    const save = () => {
      put(KEY.filter, { inc: inc.value, exc: exc.value, mode: and.checked ? "and" : "or", only: only.checked });
      clearTimeout(timer);
      timer = setTimeout(applyFilter, 120); // typing stays smooth on a 1,000-paper page
    };
    const inc = el("textarea", { id: "reader-inc", rows: "3", placeholder: "one keyword per line", oninput: save });
    const exc = el("textarea", { id: "reader-exc", rows: "3", placeholder: "one keyword per line", oninput: save });
    inc.value = f.inc; exc.value = f.exc;
    const or = el("input", { type: "radio", name: "reader-mode", value: "or", onchange: save });
    const and = el("input", { type: "radio", name: "reader-mode", value: "and", onchange: save });
    (f.mode === "and" ? and : or).checked = true;
    const only = el("input", { type: "checkbox", id: "reader-only", onchange: save });
    only.checked = !!f.only;
    panel.replaceChildren(closeBtn(), el("h2", {}, "Filter"),
      el("div", { class: "reader-cols" },
        el("label", {}, "Include", inc), el("label", {}, "Exclude", exc)),
      el("p", { class: "reader-opts" },
        el("label", {}, or, " any (OR)"), " ", el("label", {}, and, " all (AND)"), " · ",
        el("label", {}, only, " show only matches"), " · ",
        button("clear", { id: "reader-clear" }, () => { inc.value = ""; exc.value = ""; save(); }), " ",
        el("span", { id: "reader-filter-count", role: "status" })));
    applyFilter();
  }
  function showStars() {
    const list = stars();
    const removed = get(KEY.removed, []).filter((r) => !list.some((s) => s.id === r.id));
    const ul = el("ul", { class: "reader-stars" });
    for (const s of [...list].reverse()) {
      ul.append(el("li", {}, el("a", { href: `/arxiv/${s.id}` }, s.title || s.id), " ",
        button("✕", { "aria-label": `Unstar ${s.id}`, class: "reader-unstar" }, () => {
          const card = document.getElementById(s.id);
          if (card) setStar(card, false); else unstarId(s.id);
        })));
    }
    const ids = list.map((s) => s.id).join(",");
    const head = el("p", {},
      list.length ? el("a", { id: "reader-export", href: `/arxiv/${ids}` }, `Export ${list.length} starred`) : "No starred papers yet: [PDF], [FAQ], s or ☆ star one.",
      list.length ? " · " : "", list.length ? el("a", { href: `/arxiv/${ids}/feed` }, "Atom") : "");
    const restore = el("ul", { class: "reader-removed" });
    for (const r of [...removed].reverse().slice(0, 10)) {
      restore.append(el("li", {}, r.title || r.id, " ",
        button("restore", { class: "reader-restore", "aria-label": `Restore star of ${r.id}` }, () => {
          put(KEY.stars, [...stars(), { ...r, at: Date.now() }]);
          put(KEY.removed, get(KEY.removed, []).filter((x) => x.id !== r.id));
          refreshStars();
        })));
    }
    panel.replaceChildren(closeBtn(), el("h2", {}, "Starred"), head, ul,
      removed.length ? el("h3", {}, "Recently removed") : "", removed.length ? restore : "");
  }
  function unstarId(id) {
    const old = stars().find((s) => s.id === id);
    put(KEY.stars, stars().filter((s) => s.id !== id));
    if (old) put(KEY.removed, [...get(KEY.removed, []), old].slice(-50));
    refreshStars();
  }
  function showSettings() {
    const lang = el("select", { id: "reader-lang", onchange: (e) => putText(KEY.lang, e.target.value) },
      el("option", { value: "zh" }, "中文"), el("option", { value: "en" }, "English"));
    lang.value = getText(KEY.lang) || ((navigator.language || "").startsWith("zh") ? "zh" : "en");
    const theme = el("select", { id: "reader-theme", onchange: (e) => {
      if (e.target.value === "system") localStorage.removeItem(KEY.theme); else putText(KEY.theme, e.target.value);
      applyTheme();
    } }, el("option", { value: "system" }, "follow the system"), el("option", { value: "light" }, "light"), el("option", { value: "dark" }, "dark"));
    theme.value = getText(KEY.theme) || "system";
    // the same keywords as Track's: one store (app.js), one keyword a line here
    const prefs = el("textarea", { id: "reader-prefs", rows: "4", placeholder: "one keyword per line",
      oninput: (e) => tasteStore.setKeywords(e.target.value.split("\n")) });
    prefs.value = tasteStore.load().keywords.join("\n");
    panel.replaceChildren(closeBtn(), el("h2", {}, "Settings"),
      el("p", {}, el("label", {}, "FAQ language ", lang), " · ", el("label", {}, "Theme ", theme)),
      el("label", { class: "reader-block" }, "Preference keywords (❤ sort; the same as Track's)", prefs),
      el("p", { class: "reader-help" }, "Keys: j / k next / previous paper · s star · f FAQ · / filter · Esc close"));
    // other scripts' settings (texts.js: TL;DRs, translation) add their sections
    document.dispatchEvent(new CustomEvent("reader:settings", { detail: { panel } }));
  }

  // ---- keyboard navigation -----------------------------------------------------------------
  let current = null;
  function move(step) {
    const list = cards().filter((c) => !c.hidden);
    if (!list.length) return;
    let i = current ? list.indexOf(current) : -1;
    if (i < 0 && current === null) i = step > 0 ? -1 : list.length;
    i = Math.max(0, Math.min(list.length - 1, i + step));
    if (current) current.classList.remove("reader-current");
    current = list[i];
    current.classList.add("reader-current");
    current.focus({ preventScroll: true });
    current.scrollIntoView({ block: "start" });
  }
  function typing(e) {
    const t = e.target;
    return t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }
  function onKey(e) {
    const find = (e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "f";
    if (find && bar) {
      // a second Ctrl+F inside the filter falls through to the browser's own find
      if (document.activeElement && document.activeElement.id === "reader-inc") return;
      e.preventDefault();
      if (panelShown !== "filter") toggle("filter"); else document.getElementById("reader-inc").focus();
      return;
    }
    if (e.key === "Escape" && panel && !panel.hidden) {
      const was = panelShown;
      panel.hidden = true; panelShown = null;
      // focus back to the bar button that opened the panel, not lost in a hidden one
      const back = document.getElementById(`reader-${was}-btn`);
      if (back && panel.contains(document.activeElement)) back.focus();
      return;
    }
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey || !bar) return;
    const card = current && current.isConnected ? current : null;
    if (e.key === "j") move(1);
    else if (e.key === "k") move(-1);
    else if (e.key === "/") { e.preventDefault(); if (panelShown !== "filter") toggle("filter"); }
    else if (e.key === "s" && card) setStar(card, !isStarred(card.id));
    else if (e.key === "f" && card) { const k = card.querySelector("a.title-kimi"); if (k) k.click(); }
  }

  // ---- events ------------------------------------------------------------------------------
  document.addEventListener("pointerdown", (e) => {
    // save the selection before the click, in case anything on the way clears it
    if (e.target.closest("button.title-copy")) saveSelection();
  });
  document.addEventListener("click", (e) => {
    const t = e.target;
    const card = t.closest && t.closest("div.paper");
    if (t.closest("button.title-copy")) { if (!savedRanges.length) saveSelection(); copy(card, t.closest("button")).finally(() => { savedRanges = []; }); return; }
    if (t.closest("button.reader-star")) { setStar(card, !isStarred(card.id)); return; }
    if (t.closest("button.reader-fold")) { fold(card); return; }
    const st = t.closest(".subject-tools button");
    if (st) { e.preventDefault(); pick(st.parentElement.dataset.cat, st.dataset.st); subjectTools(st.parentElement.previousElementSibling); return; }
    const pdf = t.closest("a.title-pdf");
    const kimi = t.closest("a.title-kimi");
    if (card && (pdf || kimi)) {
      // opening the paper already says "this caught my eye": star it (never unstar)
      if (!isStarred(card.id)) setStar(card, true);
      if (pdf && inlinePdf() && e.button === 0 && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
        e.preventDefault();
        togglePdf(card, pdf);
      }
      // faq.js opens or closes its panel in its own handler: update the fold button after it
      if (kimi) setTimeout(() => foldState(card));
    }
  });
  const hoverSubject = (e) => {
    const a = e.target.closest && e.target.closest("p.subjects a[data-cat]");
    if (a) subjectTools(a);
  };
  document.addEventListener("mouseover", hoverSubject);
  document.addEventListener("focusin", hoverSubject);
  document.addEventListener("keydown", onKey);

  function init() {
    decorate();
    buildBar();
    refreshStars();
    const f = get(KEY.filter, null);
    if (f && (f.inc || f.exc)) applyFilter();
  }
  document.addEventListener("papers:added", () => {
    decorate();
    if (original) { // cards arriving while sorted: kept in arXiv's order, placed in the sort's
      const box = papersBox();
      const known = new Set(original);
      const fresh = [...box.children].filter((c) => !known.has(c));
      original.push(...fresh);
      if (sorted) {
        for (const h of fresh) if (h.matches("h3.group")) h.remove();
        sorted.rank = new Map(original.map((e, i) => [e, i]));
        placeNew(fresh.filter((c) => c.matches("div.paper")));
      }
    }
    const f = get(KEY.filter, null);
    if (f && (f.inc || f.exc)) applyFilter();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
