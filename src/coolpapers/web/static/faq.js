// coolpapers FAQ: the [FAQ] button opens a panel under the paper and streams the answer
// (fetch POST + ReadableStream over Server-Sent Events). The server sends rendered, sanitized
// HTML snapshots, so the streamed view and the final view are the same HTML; math in them is
// typeset here with KaTeX (app.js's typeset). Also: the [PDF] / [FAQ] click counters.
"use strict";
(() => {
  const LANG_KEY = "coolpapers.faq.lang";
  const LANGS = { zh: "中文", en: "English" };
  // what the model saw of the paper (llm/context.py)
  const SEEN = { full: "full text", trimmed: "trimmed text", sections: "sections per question",
                 abstract: "abstract only" };
  const getLang = () => localStorage.getItem(LANG_KEY) ||
    ((navigator.language || "").startsWith("zh") ? "zh" : "en");
  const typeset = (el) => { if (typeof window.typeset === "function") window.typeset(el); };
  const api = (id) => `/api/papers/${id}/faq`;

  // Server-Sent Events from a fetch() response body: yields [event, data] pairs.
  async function* events(resp) {
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let name = "message", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) name = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        if (data) yield [name, JSON.parse(data)];
      }
    }
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  class Panel {
    constructor(paper, root) {
      this.id = paper;
      this.root = root;
      this.lang = getLang();
      root.replaceChildren();
      this.bar = el("div", "faq-bar");
      this.status = el("span", "faq-status");
      this.langs = el("span", "faq-langs");
      for (const [code, name] of Object.entries(LANGS)) {
        const b = el("button", "faq-lang", name);
        b.type = "button";
        b.dataset.lang = code;
        b.addEventListener("click", () => { localStorage.setItem(LANG_KEY, code); this.lang = code; this.load(); });
        this.langs.append(b);
      }
      this.regen = el("button", "faq-regen", "Regenerate");
      this.regen.type = "button";
      this.regen.hidden = true;
      this.regen.addEventListener("click", () => this.start(true));
      this.bar.append(this.langs, this.status, this.regen);
      this.body = el("div", "faq-body");
      this.meta = el("p", "faq-meta");
      this.follow = el("form", "faq-followup");
      this.follow.hidden = true;
      const input = el("input");
      input.name = "q";
      input.placeholder = "Ask your own question about this paper…";
      input.maxLength = 2000;
      const ask = el("button", "", "Ask");
      this.followAnswer = el("div", "faq-followup-answer");
      this.follow.append(input, ask);
      this.follow.addEventListener("submit", (ev) => { ev.preventDefault(); this.followup(input); });
      root.append(this.bar, this.body, this.meta, this.follow, this.followAnswer);
    }

    say(text, cls = "") { this.status.textContent = text; this.status.className = `faq-status ${cls}`; }

    async load() {
      const gen = this.gen = (this.gen || 0) + 1;  // a newer load (other language) wins
      for (const b of this.langs.children) b.classList.toggle("on", b.dataset.lang === this.lang);
      this.body.replaceChildren();
      this.meta.textContent = "";
      this.regen.hidden = true;
      this.follow.hidden = true;
      this.say("Loading…");
      const r = await fetch(`${api(this.id)}?lang=${this.lang}`);
      const j = await r.json();
      if (gen !== this.gen) return;
      if (!r.ok) return this.say(j.error || `HTTP ${r.status}`, "error");
      if (!j.configured) return this.say(j.message, "help");
      if (j.status === "done" && j.html !== undefined) return this.show(j);
      return this.start(false);
    }

    show(j) {
      this.body.innerHTML = j.html;  // rendered and sanitized by the server (llm/render.py)
      typeset(this.body);
      const v = j.paper_version ? `v${j.paper_version}` : "";
      const seen = SEEN[j.source] ? ` (${SEEN[j.source]})` : "";
      this.meta.textContent = `${j.model} · prompts ${j.prompt_version} · from ${v || "the paper"}${seen}`;
      if (j.outdated) {
        const failed = j.error ? ` Regenerating failed (${j.error}).` : "";
        this.say(`${j.source_name} has v${j.latest_version}: this answer was made from ${v}.${failed}`, "outdated");
        this.regen.hidden = false;
      } else if (j.error) this.say(`Regenerating failed (${j.error}); this is the earlier answer.`, "error");
      else this.say("");
      this.follow.hidden = false;
    }

    async start(regenerate) {
      const gen = this.gen;
      this.regen.hidden = true;
      this.say("Starting…");
      const q = `lang=${this.lang}${regenerate ? "&regenerate=1" : ""}`;
      let r;
      try { r = await fetch(`${api(this.id)}?${q}`, { method: "POST" }); }
      catch (e) { return this.fail("network error"); }
      if (!r.ok) {
        let msg = `HTTP ${r.status}`;
        try { msg = (await r.json()).error || msg; } catch (e) { /* not JSON */ }
        return this.fail(msg);
      }
      if (regenerate) this.body.replaceChildren();
      let restarted = false;
      try {
        for await (const [name, d] of events(r)) {
          if (gen !== this.gen) return;  // the reader switched language: this stream is stale
          if (name === "status") {
            if (d.restarted) {
              // The worker writing this answer died: what it wrote is gone for good, and the
              // answer starts over (by another worker, once its lease has run out).
              restarted = true;
              if (d.state === "restarting") this.body.replaceChildren();
              this.say(d.note, "restarted");
            } else if (d.step) {
              // What the generation is doing: fetching the PDF (and each retry), using the
              // abstract, answering question k of 6; or, queued, the local model being built.
              this.say(d.step, d.state === "pending" ? "waiting" : "");
            } else {
              this.say(d.state === "pending" ? `Pending: ${d.position ?? "…"}` : "Generating…");
            }
          } else if (name === "reset") {
            this.body.replaceChildren();  // a new attempt (the first worker died): start over
          } else if (name === "turn") {
            let t = this.body.querySelector(`div.faq-turn[data-i="${d.i}"]`);
            if (!t) { t = el("div", "faq-turn"); t.dataset.i = d.i; this.body.append(t); }
            t.innerHTML = d.html;  // server-rendered, sanitized snapshot of this turn
            typeset(t);
            const again = restarted ? " (restarted: the previous attempt stopped)" : "";
            // (a finished turn: the next question's step follows in a status event)
            const k = Math.min(d.i + (d.done ? 2 : 1), d.of || 6);
            this.say(`Answering question ${k} of ${d.of || 6}…${again}`, restarted ? "restarted" : "");
          } else if (name === "done") {
            return this.load();  // the final view, with its metadata
          } else if (name === "error") {
            return this.fail(d.error);
          }
        }
      } catch (e) { return this.fail("the stream was interrupted"); }
      return this.fail("the stream ended early");
    }

    fail(msg) {
      this.say(`Failed: ${msg}`, "error");
      const retry = el("button", "faq-retry", "Retry");
      retry.type = "button";
      retry.addEventListener("click", () => { retry.remove(); this.start(false); });
      this.status.append(" ", retry);
    }

    async followup(input) {
      const question = input.value.trim();
      if (!question) return;
      this.followAnswer.replaceChildren(el("p", "faq-q", question));
      const a = el("div", "faq-a");
      this.followAnswer.append(a);
      const r = await fetch(`${api(this.id)}/followup`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ question, lang: this.lang }),
      });
      if (!r.ok) { a.textContent = (await r.json()).error || `HTTP ${r.status}`; return; }
      for await (const [name, d] of events(r)) {
        if (name === "error") { a.textContent = d.error; return; }
        a.innerHTML = d.html;  // sanitized on the server
        typeset(a);
      }
    }
  }

  // ---- click counters beside [PDF] and [FAQ] -------------------------------------------
  function counter(card, kind) {
    let c = card.querySelector(`sup.click-count[data-kind="${kind}"]`);
    if (!c && kind === "pdf") {
      const pdf = card.querySelector("a.title-pdf");
      if (!pdf) return null;
      c = el("sup", "click-count");
      c.dataset.kind = "pdf";
      pdf.after(c);
    }
    return c;
  }
  function bump(card, kind) {
    const c = counter(card, kind);
    if (c) c.textContent = String((+c.textContent || 0) + 1);
  }
  async function loadCounts() {
    const cards = [...document.querySelectorAll("div.paper:not([data-counted])")];
    if (!cards.length) return;
    for (const c of cards) c.dataset.counted = "1";
    for (let i = 0; i < cards.length; i += 500) {
      const part = cards.slice(i, i + 500);
      const ids = part.map((c) => c.id).join(",");
      try {
        const counts = await (await fetch(`/api/counters?ids=${encodeURIComponent(ids)}`)).json();
        for (const card of part) {
          for (const kind of ["pdf", "faq"]) {
            const n = (counts[card.id] || {})[kind];
            const c = counter(card, kind);
            if (c && n) c.textContent = String(n);
          }
        }
      } catch (e) { console.warn("counters unavailable", e); }
    }
  }
  const click = (id, kind) => {
    const url = `/api/papers/${id}/click?kind=${kind}`;
    if (!(navigator.sendBeacon && navigator.sendBeacon(url))) fetch(url, { method: "POST", keepalive: true });
  };

  document.addEventListener("click", (ev) => {
    const pdf = ev.target.closest("a.title-pdf");
    if (pdf) {
      const card = pdf.closest("div.paper");
      click(card.id, "pdf");
      bump(card, "pdf");
      return;
    }
    const btn = ev.target.closest("a.title-kimi");
    if (!btn) return;
    ev.preventDefault();
    const card = btn.closest("div.paper");
    const panel = document.getElementById(`faq-${btn.dataset.paper}`);
    if (!panel) return;
    if (!panel.hidden) { panel.hidden = true; return; }
    panel.hidden = false;
    click(card.id, "faq");
    bump(card, "faq");
    if (!panel.faq) panel.faq = new Panel(btn.dataset.paper, panel);
    panel.faq.load();
  });
  document.addEventListener("DOMContentLoaded", loadCounts);
  document.addEventListener("papers:added", loadCounts);
})();
