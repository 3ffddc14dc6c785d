// coolpapers extension: which paper a page or a selection names, and where it opens on the
// reader's own instance. Pure functions only (no chrome.*, no DOM), so that Node's test runner
// checks every supported URL form (extension/test/mapping.test.js). Loaded as a classic script
// by the service worker (importScripts) and the content script (manifest), and by require().
"use strict";
(function (root) {
  const DEFAULT_BASE = "http://127.0.0.1:8000";

  // New-style ids (0704.0001 … 2606.05268, optional version) and old-style ones
  // (hep-th/9901001, math.GT/0309136): arXiv's two schemes, as sources/arxiv/ids.py parses them.
  const NEW_ID = /(?<![\w.])(?:arxiv[:.]\s*)?(\d{2})(0[1-9]|1[0-2])\.(\d{4,5})(?:v\d+)?(?![\w-])(?!\.\d)/gi;
  const OLD_ID = /(?<![\w.-])(?:arxiv:\s*)?([a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?)\/(\d{2})(0[1-9]|1[0-2])(\d{3})(?:v\d+)?(?!\d)/g;
  const ARCHIVES = new Set(["acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an",
    "chao-dyn", "chem-ph", "cmp-lg", "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an", "gr-qc", "hep-ex",
    "hep-lat", "hep-ph", "hep-th", "math", "math-ph", "mtrl-th", "nlin", "nucl-ex", "nucl-th", "patt-sol",
    "physics", "plasm-ph", "q-alg", "q-bio", "q-fin", "quant-ph", "solv-int", "stat", "supr-con"]);

  function validNew(yy, mm, num) {
    // ids since 2015 have 5 digits after the dot, before 4 (0704 is the first month)
    const yymm = `${yy}${mm}`;
    if (yymm < "0704") return false;
    return yymm >= "1501" ? num.length === 5 : num.length === 4;
  }

  /** Every arXiv id in a text (a selection, a URL, a page's links), versions dropped, in order. */
  function idsInText(text) {
    const found = [];
    const s = String(text || "");
    for (const m of s.matchAll(NEW_ID)) {
      if (validNew(m[1], m[2], m[3])) found.push([m.index, `${m[1]}${m[2]}.${m[3]}`]);
    }
    for (const m of s.matchAll(OLD_ID)) {
      if (ARCHIVES.has(m[1].split(".")[0])) found.push([m.index, `${m[1]}/${m[2]}${m[3]}${m[4]}`]);
    }
    found.sort((a, b) => a[0] - b[0]);
    return [...new Set(found.map((f) => f[1]))];
  }

  function parse(url) {
    try { return new URL(url); } catch (e) { return null; }
  }

  // ACL Anthology paper ids: new style (2023.acl-long.1, 2022.findings-emnlp.12) and old style
  // (P19-1001, W18-5446). Anything else there (events, people, volumes, venues) is no paper.
  const ACL_PAPER = /^(?:\d{4}\.[a-z\d]+(?:-[a-z\d]+)*\.\d+|[A-Z]\d{2}-\d{4})$/i;

  /** The arXiv id at the head of a path's rest ("2309.16354v2/#S3", "hep-th/9901001v1.pdf"),
   * only when the rest starts with it: "/html/foo/2309.16354" names no paper. */
  function headId(rest, whole) {
    let s;
    try { s = decodeURIComponent(rest); } catch (e) { return null; }
    s = s.replace(/\.pdf$/, "");
    const id = idsInText(s)[0];
    if (!id || !s.startsWith(id)) return null;
    const tail = s.slice(id.length);
    // whole: the id is all the segment says (huggingface.co/papers/<id>), a version at most
    return (whole ? /^(v\d+)?\/?$/ : /^(v\d+)?(\/|$)/).test(tail) ? id : null;
  }

  /** The kind of paper page a URL is, if it is one the extension maps: arxiv (abs / pdf / html
   * of an id), openreview (forum or pdf with ?id=), acl (a paper id), hf (/papers/<arXiv id>).
   * Listings, search, trending, daily pages, events, people: null. */
  function site(url) {
    const u = parse(url);
    if (!u || !/^https?:$/.test(u.protocol)) return null;
    const host = u.hostname.replace(/^www\./, "");
    const path = u.pathname;
    let m;
    if (/^(export\.)?arxiv\.org$/.test(host) && (m = /^\/(abs|pdf|html)\/(.+)$/.exec(path)) && headId(m[2], false)) return "arxiv";
    if (host === "openreview.net" && /^\/(forum|pdf)\/?$/.test(path) && u.searchParams.get("id")) return "openreview";
    if (host === "aclanthology.org" && (m = /^\/([^/]+?)(?:\.pdf|\/)?$/.exec(path)) && ACL_PAPER.test(m[1])) return "acl";
    if (host === "huggingface.co" && (m = /^\/papers\/(.+)$/.exec(path)) && headId(m[1], true)) return "hf";
    return null;
  }

  /** The arXiv id a URL carries by itself: arXiv abs/pdf/html and huggingface.co/papers/<id>. */
  function idFromUrl(url) {
    const s = site(url);
    if (s !== "arxiv" && s !== "hf") return null;
    // the id is the head of the path: /html/2309.16354v2/#S3, /pdf/hep-th/9901001v1
    return headId(parse(url).pathname.replace(/^\/(abs|pdf|html|papers)\//, ""), s === "hf");
  }

  /** Where a page whose URL names no arXiv id can be fetched to look for one (PDF pages have
   * no DOM for a content script): OpenReview's forum page, ACL Anthology's landing page. */
  function landingPage(url) {
    const s = site(url);
    const u = parse(url);
    if (s === "openreview") return `https://openreview.net/forum?id=${encodeURIComponent(u.searchParams.get("id"))}`;
    if (s === "acl") return `https://aclanthology.org${u.pathname.replace(/\.pdf$/, "").replace(/\/?$/, "/")}`;
    return null;
  }

  /** What a page tells: arXiv ids from its links to arxiv.org, and its title (citation_title,
   * which OpenReview and the ACL Anthology both set, else the document title). */
  function pageInfo({ hrefs = [], title = "" } = {}) {
    const ids = [];
    for (const h of hrefs) {
      const s = site(h);
      const id = s === "arxiv" ? idFromUrl(h) : (/^https?:\/\/(www\.)?arxiv\.org\//.test(h) ? idsInText(h)[0] : null);
      if (id && !ids.includes(id)) ids.push(id);
    }
    return { ids, title: String(title).replace(/\s+/g, " ").trim() };
  }

  /** The same from a page's HTML (fetched by the service worker, which has no DOM). */
  function pageInfoFromHtml(html) {
    const hrefs = [...String(html).matchAll(/href\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1].replace(/&amp;/g, "&"));
    const meta = /<meta[^>]+name=["']citation_title["'][^>]*content=["']([^"']*)["']/i.exec(html)
      || /<meta[^>]+content=["']([^"']*)["'][^>]*name=["']citation_title["']/i.exec(html);
    const title = meta ? meta[1] : (/<title[^>]*>([^<]*)<\/title>/i.exec(html) || [, ""])[1];
    return pageInfo({ hrefs, title: decodeEntities(title) });
  }

  function decodeEntities(s) {
    return s.replace(/&quot;/g, '"').replace(/&#39;|&#x27;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  /** The instance's base URL as the reader typed it, reduced to scheme://host[:port][/path]. */
  function normalizeBase(base) {
    const s = String(base || "").trim();
    const u = parse(/^https?:\/\//i.test(s) ? s : `http://${s}`);
    if (!s || !u) return DEFAULT_BASE;
    return `${u.origin}${u.pathname.replace(/\/+$/, "")}`;
  }

  const paperUrl = (base, ids) => `${normalizeBase(base)}/arxiv/${ids.join(",")}`;
  const searchUrl = (base, query) => `${normalizeBase(base)}/arxiv/search?query=${encodeURIComponent(query.replace(/\s+/g, " ").trim().slice(0, 300))}`;

  /** A selection: its ids open together, else its words become a search; empty: null. */
  function targetForSelection(base, text) {
    const ids = idsInText(text);
    if (ids.length) return paperUrl(base, ids);
    return String(text || "").trim() ? searchUrl(base, String(text)) : null;
  }

  /** A page: the id in its URL, else an arXiv id the page links to, else a search for its title. */
  function targetForPage(base, url, info) {
    const id = idFromUrl(url);
    if (id) return paperUrl(base, [id]);
    if (!site(url)) return null;
    const i = info || { ids: [], title: "" };
    if (i.ids && i.ids.length) return paperUrl(base, [i.ids[0]]);
    return i.title ? searchUrl(base, i.title) : null;
  }

  const api = { DEFAULT_BASE, idsInText, site, idFromUrl, landingPage, pageInfo, pageInfoFromHtml,
    normalizeBase, targetForSelection, targetForPage };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  root.CoolpapersMapping = api;
})(typeof globalThis !== "undefined" ? globalThis : this);
