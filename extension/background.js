// coolpapers extension, service worker: the context-menu items and the toolbar button.
// The mapping itself is in mapping.js (pure, unit-tested); this file only talks to Chrome.
"use strict";
importScripts("mapping.js");
const M = globalThis.CoolpapersMapping;

const PAGES = [
  "https://arxiv.org/abs/*", "https://arxiv.org/pdf/*", "https://arxiv.org/html/*",
  "https://www.arxiv.org/*", "https://export.arxiv.org/abs/*",
  "https://openreview.net/forum*", "https://openreview.net/pdf*", "https://openreview.net/attachment*",
  "https://aclanthology.org/*", "https://huggingface.co/papers/*",
  "https://proceedings.mlr.press/*", "https://openaccess.thecvf.com/*",
  "https://www.ijcai.org/proceedings/*", "https://www.ijcai.org/Proceedings/*",
  "https://ijcai.org/proceedings/*", "https://ijcai.org/Proceedings/*",
];

async function base() {
  const { base } = await chrome.storage.sync.get({ base: M.DEFAULT_BASE });
  return M.normalizeBase(base);
}

// What a paper's page says (its arXiv links, its title), fetched: null when it cannot be read.
async function fetchInfo(url) {
  if (!url) return null;
  try {
    const r = await fetch(url, { credentials: "omit" });
    return r.ok ? M.pageInfoFromHtml(await r.text()) : null;
  } catch (e) { return null; }
}

// What a page names: the content script knows its DOM; PDF pages have none, so their landing
// page (OpenReview forum, ACL Anthology abstract page, PMLR / CVF html page, IJCAI paper page)
// is fetched and read instead.
async function infoFor(tab) {
  try {
    const info = await chrome.tabs.sendMessage(tab.id, { type: "coolpapers:info" });
    if (info) return info;
  } catch (e) { /* no content script on this page: fall through */ }
  // none, or one on a PDF (which answers null): the paper's landing page
  return fetchInfo(M.landingPage(tab.url));
}

// Venue papers open on the instance's venue page, with what opened before (the arXiv version
// the page links to, else a search for its title) as its `else`, for an instance without them.
async function targetFor(info, tab) {
  const b = await base();
  if (info.selectionText) return M.targetForSelection(b, info.selectionText);
  if (info.linkUrl && M.idFromUrl(info.linkUrl)) return M.targetForPage(b, info.linkUrl);
  // a link to a venue paper (a proceedings volume's list): that paper, read from its page
  if (info.linkUrl && M.venueId(info.linkUrl)) return M.targetForPage(b, info.linkUrl, await fetchInfo(M.landingPage(info.linkUrl)));
  if (!tab || !tab.url) return null;
  if (M.idFromUrl(tab.url)) return M.targetForPage(b, tab.url);
  return M.targetForPage(b, tab.url, await infoFor(tab));
}

async function openPaper(info, tab) {
  const url = await targetFor(info, tab);
  if (url) await chrome.tabs.create({ url, index: tab ? tab.index + 1 : undefined, openerTabId: tab ? tab.id : undefined });
  return url;
}
globalThis.coolpapersOpen = openPaper; // for the end-to-end test, which cannot click a menu

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.create({ id: "page", title: "Open this paper in coolpapers", contexts: ["page", "link"], documentUrlPatterns: PAGES });
  // selections anywhere: ids open together, other text is a search
  chrome.contextMenus.create({ id: "selection", title: "Open “%s” in coolpapers", contexts: ["selection"] });
});
chrome.contextMenus.onClicked.addListener((info, tab) => { openPaper(info, tab); });
chrome.action.onClicked.addListener((tab) => { openPaper({}, tab); });
chrome.runtime.onMessage.addListener((msg, sender, reply) => {
  if (msg && msg.type === "coolpapers:base") { base().then(reply); return true; }
  // a PDF tab's content script: what the paper's landing page says (landingPage only ever
  // names a paper's page on one of the sites above)
  if (msg && msg.type === "coolpapers:landing") { fetchInfo(M.landingPage(msg.url)).then(reply); return true; }
  return false;
});
