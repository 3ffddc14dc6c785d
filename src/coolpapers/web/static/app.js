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

// Long days: the first cards come with the page; the rest arrive as the reader scrolls.
function progressive() {
  const papers = document.querySelector("div.papers[data-more]");
  if (!papers) return;
  const total = +papers.dataset.total;
  let shown = +papers.dataset.shown;
  const more = document.querySelector("p.more");
  if (!more || shown >= total) return;
  let busy = false;
  const load = async () => {
    if (busy || shown >= total) return;
    busy = true;
    more.querySelector(".loading").hidden = false;
    try {
      const r = await fetch(`${papers.dataset.more}&offset=${shown}&limit=100`);
      if (!r.ok) throw new Error(r.status);
      const tpl = document.createElement("template");
      tpl.innerHTML = await r.text();
      const n = tpl.content.querySelectorAll("div.paper").length;
      typeset(tpl.content);
      papers.append(tpl.content);
      shown += n;
      papers.dataset.shown = shown;
      document.dispatchEvent(new CustomEvent("papers:added"));
      if (shown >= total || n === 0) { more.remove(); obs.disconnect(); }
    } catch (e) { console.warn("could not load more papers", e); }
    busy = false;
    if (more.isConnected) more.querySelector(".loading").hidden = true;
  };
  const obs = new IntersectionObserver((es) => { if (es.some((e) => e.isIntersecting)) load(); },
    { rootMargin: "1200px" });
  obs.observe(more);
}

// Home page: a tri-state picker (follow / exclude / ignore) kept in localStorage that builds
// the reader's own listing URL in papers.cool's syntax (cs.AI+cs.LG-cs.CY).
const STATES = ["ignore", "follow", "exclude"];
const MARK = { ignore: "○", follow: "✓", exclude: "✗" };
function picker() {
  const link = document.getElementById("my-listing");
  if (!link) return;
  const dateInput = document.getElementById("my-date");
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
    if (follow.length) {
      const d = dateInput && dateInput.value ? `?date=${dateInput.value}` : "";
      link.href = `/arxiv/${follow.join("+")}${exclude.map((c) => `-${c}`).join("")}${d}`;
      link.textContent = link.pathname + (d || "");
    } else {
      link.removeAttribute("href");
      link.textContent = "pick categories below";
    }
    localStorage.setItem("coolpapers.picks", JSON.stringify(picks));
  };
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("button.pick");
    if (b) {
      const cur = picks[b.dataset.cat] || "ignore";
      const next = STATES[(STATES.indexOf(cur) + 1) % STATES.length];
      if (next === "ignore") delete picks[b.dataset.cat]; else picks[b.dataset.cat] = next;
      update();
    }
    const d = ev.target.closest("a.day-link");
    if (d) { ev.preventDefault(); dateInput.value = d.dataset.date; update(); if (link.href) location.href = link.href; }
  });
  document.getElementById("my-clear").addEventListener("click", () => { picks = {}; update(); });
  if (dateInput) dateInput.addEventListener("change", update);
  update();
}

document.addEventListener("DOMContentLoaded", () => {
  typeset(document);
  progressive();
  picker();
});
