// coolpapers extension, content script: a small "open in coolpapers" link on paper pages (a
// venue paper's: its venue page on the instance, falling back to what the page says), and what
// the page says about its paper (arXiv links, citation title) for the service worker.
"use strict";
(() => {
  const M = globalThis.CoolpapersMapping;
  if (!M || !M.site(location.href)) return;

  // A PDF (Chromium runs content scripts in its viewer's page too): its DOM says nothing about
  // the paper, so the service worker reads the paper's landing page instead.
  const pdf = document.contentType === "application/pdf";

  function info() {
    if (pdf) return null;
    const hrefs = [...document.querySelectorAll("a[href]")].map((a) => a.href);
    const meta = document.querySelector('meta[name="citation_title"]');
    return M.pageInfo({ hrefs, title: meta ? meta.content : document.title });
  }

  chrome.runtime.onMessage.addListener((msg, sender, reply) => {
    if (msg && msg.type === "coolpapers:info") reply(info());
  });

  async function inject() {
    const base = await chrome.runtime.sendMessage({ type: "coolpapers:base" });
    const told = pdf && !M.idFromUrl(location.href)
      ? await chrome.runtime.sendMessage({ type: "coolpapers:landing", url: location.href })
      : info();
    const target = M.targetForPage(base, location.href, told);
    if (!target || document.getElementById("coolpapers-open")) return;
    const a = document.createElement("a");
    a.id = "coolpapers-open";
    a.href = target;
    a.textContent = "Open in coolpapers";
    a.title = target;
    a.setAttribute("aria-label", "Open this paper in coolpapers");
    // fixed in a corner: the same on every site, never inside the site's own layout
    a.style.cssText = "position:fixed;right:12px;bottom:12px;z-index:2147483647;padding:4px 10px;" +
      "border-radius:6px;background:#c0392b;color:#fff;font:600 13px/1.6 system-ui,sans-serif;" +
      "text-decoration:none;box-shadow:0 1px 6px rgba(0,0,0,.3)";
    document.body.append(a);
  }
  inject();
})();
