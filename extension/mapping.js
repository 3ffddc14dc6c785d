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

  // ACL Anthology paper ids: new style (2023.acl-long.1, 2022.findings-emnlp.12) and old style
  // (P19-1001, W18-5446), a PDF revision at most (2024.eacl-long.69v2.pdf). Anything else there
  // (events, people, volumes, venues) is no paper. ACL_PAPER is the page test (as before, it lets
  // odd ids through: they open as before); ACL_ID is sources/acl/ids.py's _ID, the venue id.
  const ACL_PAPER = /^(?:\d{4}\.[a-z\d]+(?:-[a-z\d]+)*\.\d+|[A-Z]\d{2}-\d{4})(?:v\d+)?$/i;
  const ACL_ID = /^(?:(\d{4})\.([a-z0-9]+)-([a-z0-9]+)\.(\d+)|([a-z])(\d{2})-(\d{4}))(?:v(\d+))?$/i;
  // OpenReview forum ids (sources/openreview/ids.py's FORUM): case-sensitive, kept as written
  const FORUM = /^[A-Za-z0-9_-]{5,32}$/;
  // PMLR (sources/pmlr/ids.py's _PATH): /v336/aamand26a.html, /v336/aamand26a/aamand26a.pdf,
  // /v37/ioffe15.pdf (volumes 28-53), /v336/aamand26a; volumes v<n> or r<n> (reissues)
  const PMLR_PATH = /^\/*([vr]\d{1,5})\/+([a-z0-9][a-z0-9_-]*)(?:\.html?|(\.pdf)|\/+([a-z0-9][a-z0-9_-]*)\.pdf)?\/?$/i;
  // IJCAI (sources/ijcai/ids.py's _URL): /proceedings/2024/176, /proceedings/2024/0176.pdf
  const IJCAI_PATH = /^\/+proceedings\/+(\d{4})\/+(\d{1,5})(?:\.pdf)?\/?$/i;
  // CVF open access (sources/cvf/ids.py's _URL): content_CVPR_2019/html/<name>.html or
  // content/WACV2025/papers/<name>.pdf, a workshop's folder(s) before the name
  const CVF_PATH = /^\/+(content_[A-Za-z0-9]+_\d{4}|content\/[A-Za-z0-9]+)\/+(?:html|papers)\/+((?:[^/?#]+\/+)*)([^/?#]+?)\.(?:html|pdf)\/?$/i;
  const CVF_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
  const CVF_CONF = /^[A-Z][A-Z0-9]*$/;
  const CVF_YEAR = /^(?:19|20)\d\d$/;

  const VENUE_SITES = { "openreview.net": "openreview", "aclanthology.org": "acl", "proceedings.mlr.press": "pmlr",
    "ijcai.org": "ijcai", "openaccess.thecvf.com": "cvf" };
  const noZeros = (digits) => digits.replace(/^0+(?=\d)/, ""); // int() of any length, as text

  /** Python's str.rsplit("_", 3). */
  function rsplit3(s) {
    const parts = [];
    let rest = s;
    for (let i = 0; i < 3; i++) {
      const k = rest.lastIndexOf("_");
      if (k < 0) break;
      parts.unshift(rest.slice(k + 1));
      rest = rest.slice(0, k);
    }
    parts.unshift(rest);
    return parts;
  }

  /** A venue paper page, parsed as the server's sources parse its URL: { id (the public id,
   * papers.cool's form, no version), landing (the page to read for its arXiv link and title) },
   * else null. Hosts are the sites' own (www. or not); paths as the browser gives them (still
   * percent-encoded, as the server's parsers read a pasted URL). */
  function venue(u) {
    const host = u.hostname.replace(/^www\./, "");
    const path = u.pathname;
    let m;
    if (host === "openreview.net" && (m = /^\/+(forum|pdf|attachment)\/?$/i.exec(path))) {
      const ids = u.searchParams.getAll("id");
      if (ids.length !== 1 || !FORUM.test(ids[0])) return null;
      // other attachments (supplementary material) are files, not the paper
      if (m[1].toLowerCase() === "attachment" && u.searchParams.get("name") !== "pdf") return null;
      return { id: `${ids[0]}@OpenReview`, landing: `https://openreview.net/forum?id=${encodeURIComponent(ids[0])}` };
    }
    if (host === "aclanthology.org" && (m = /^\/+([^/]+?)(?:\.pdf)?\/?$/i.exec(path)) && (m = ACL_ID.exec(m[1]))) {
      if (m[8] !== undefined && Number(m[8]) === 0) return null; // versions count from 1
      const local = m[1] ? `${m[1]}.${m[2].toLowerCase()}-${m[3].toLowerCase()}.${noZeros(m[4])}` : `${m[5].toUpperCase()}${m[6]}-${m[7]}`;
      return { id: `${local}@ACL`, landing: `https://aclanthology.org/${local}/` };
    }
    if (host === "proceedings.mlr.press" && (m = PMLR_PATH.exec(path))) {
      const [, vol, paper, flatPdf, again] = m;
      if (again !== undefined && again.toLowerCase() !== paper.toLowerCase()) return null; // a supplement
      // volumes 28-53 put supplements beside the paper: /v37/ioffe15-supp.pdf (no paper id
      // ends so; the server's parser would take it for one)
      if (flatPdf && /-supp$/i.test(paper)) return null;
      const number = noZeros(vol.slice(1));
      if (number === "0") return null;
      const v = `${vol[0].toLowerCase()}${number}`;
      const p = paper.toLowerCase();
      return { id: `${p}@${v}@PMLR`, landing: `https://proceedings.mlr.press/${v}/${p}.html` };
    }
    if (host === "ijcai.org" && (m = IJCAI_PATH.exec(path))) {
      const year = Number(m[1]);
      const num = noZeros(m[2]);
      if (year < 1969 || year > 2200 || num === "0") return null;
      return { id: `${num}@${year}@IJCAI`, landing: `https://www.ijcai.org/proceedings/${year}/${num}` };
    }
    if (host === "openaccess.thecvf.com" && (m = CVF_PATH.exec(path))) {
      const [, folder, sub, name] = m;
      const parts = rsplit3(name);
      if (parts.length !== 4 || parts[3] !== "paper" || !CVF_NAME.test(parts[0])) return null;
      const [, a, b] = parts;
      if (!((CVF_CONF.test(a) && CVF_YEAR.test(b)) || (CVF_YEAR.test(a) && CVF_CONF.test(b)))) return null;
      return { id: `${name}@CVF`, landing: `https://openaccess.thecvf.com/${folder}/html/${sub}${name}.html` };
    }
    return null;
  }

  /** The public id of a venue paper's page or PDF on OpenReview (forum, pdf, attachment with
   * name=pdf), the ACL Anthology, PMLR, IJCAI or CVF open access, exactly as the server's
   * parsers (sources/<name>/ids.py) read the same URL, without version; else null (listings,
   * volumes, events, search pages, supplementary files, ids those parsers reject). */
  function venueId(url) {
    const u = parse(url);
    if (!u || !/^https?:$/.test(u.protocol)) return null;
    const v = venue(u);
    return v ? v.id : null;
  }

  /** The kind of paper page a URL is, if it is one the extension maps: arxiv (abs / pdf / html
   * of an id), openreview (forum or pdf with ?id=, the PDF attachment), acl (a paper id), hf
   * (/papers/<arXiv id>), pmlr, ijcai, cvf (a paper's page or PDF). Listings, search, trending,
   * daily pages, events, people, volumes, supplements: null. */
  function site(url) {
    const u = parse(url);
    if (!u || !/^https?:$/.test(u.protocol)) return null;
    const host = u.hostname.replace(/^www\./, "");
    const path = u.pathname;
    let m;
    if (/^(export\.)?arxiv\.org$/.test(host) && (m = /^\/(abs|pdf|html)\/(.+)$/.exec(path)) && headId(m[2], false)) return "arxiv";
    if (host === "huggingface.co" && (m = /^\/papers\/(.+)$/.exec(path)) && headId(m[1], true)) return "hf";
    if (host === "openreview.net" && /^\/(forum|pdf)\/?$/.test(path) && u.searchParams.get("id")) return "openreview";
    if (host === "aclanthology.org" && (m = /^\/([^/]+?)(?:\.pdf|\/)?$/.exec(path)) && ACL_PAPER.test(m[1])) return "acl";
    const v = venue(u); // the PDF attachment, and the other hosts: their paper pages only
    return v ? VENUE_SITES[host] : null;
  }

  /** The arXiv id a URL carries by itself: arXiv abs/pdf/html and huggingface.co/papers/<id>. */
  function idFromUrl(url) {
    const s = site(url);
    if (s !== "arxiv" && s !== "hf") return null;
    // the id is the head of the path: /html/2309.16354v2/#S3, /pdf/hep-th/9901001v1
    return headId(parse(url).pathname.replace(/^\/(abs|pdf|html|papers)\//, ""), s === "hf");
  }

  /** Where a page whose URL names no arXiv id can be fetched to look for one and for its title
   * (PDF pages have no DOM for a content script): the paper's page on its site. OpenReview: the
   * forum; ACL Anthology: the abstract page (/<id>/); PMLR: /<volume>/<paper>.html; IJCAI:
   * /proceedings/<year>/<num>; CVF: the html/ page beside papers/. */
  function landingPage(url) {
    const s = site(url);
    if (!s) return null;
    const u = parse(url);
    const v = venue(u);
    if (v) return v.landing;
    // a page the extension maps whose id the server's parser rejects: as before
    if (s === "openreview") return `https://openreview.net/forum?id=${encodeURIComponent(u.searchParams.get("id"))}`;
    if (s === "acl") return `https://aclanthology.org${u.pathname.replace(/\.pdf$/, "").replace(/\/$/, "").replace(/v\d+$/, "")}/`;
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

  /** A string encodeURIComponent takes: lone surrogates (a title cut mid-character) replaced. */
  const wellFormed = (s) => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");

  // Paths on the instance, and the same as URLs under its base
  const paperPath = (ids) => `/arxiv/${ids.join(",")}`;
  /** A search for some words (300 characters at most, never cut inside one); null for none. */
  function searchPath(query) {
    const q = [...wellFormed(String(query || "")).replace(/\s+/g, " ").trim()].slice(0, 300).join("").trim();
    return q ? `/arxiv/search?query=${encodeURIComponent(q)}` : null;
  }
  /** A venue paper's page: /venue/<public id>, its '@' and '.' as they are (the id's other
   * characters, letters, digits, '_' and '-', need no escape; anything else would be). */
  const venuePath = (id) => `/venue/${encodeURIComponent(wellFormed(id)).replace(/%40/g, "@")}`;
  const paperUrl = (base, ids) => `${normalizeBase(base)}${paperPath(ids)}`;

  /** A selection: its ids open together, else its words become a search; empty: null. */
  function targetForSelection(base, text) {
    const ids = idsInText(text);
    if (ids.length) return paperUrl(base, ids);
    const path = searchPath(text);
    return path ? `${normalizeBase(base)}${path}` : null;
  }

  /** A page: the id in its URL, else an arXiv id the page links to, else a search for its title.
   * A venue paper's page (venueId) opens as /venue/<public id>?else=<that arXiv target's path>:
   * the instance shows the paper if it has it, else redirects to `else` (its path on the same
   * instance, relative to the base, encodeURIComponent'd; left out when there is none). */
  function targetForPage(base, url, info) {
    const id = idFromUrl(url);
    if (id) return paperUrl(base, [id]);
    if (!site(url)) return null;
    const i = info || { ids: [], title: "" };
    const old = i.ids && i.ids.length ? paperPath([i.ids[0]]) : searchPath(i.title);
    const b = normalizeBase(base);
    const v = venueId(url);
    if (v) return `${b}${venuePath(v)}${old ? `?else=${encodeURIComponent(old)}` : ""}`;
    return old ? `${b}${old}` : null;
  }

  const api = { DEFAULT_BASE, idsInText, site, idFromUrl, venueId, landingPage, pageInfo, pageInfoFromHtml,
    normalizeBase, targetForSelection, targetForPage };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  root.CoolpapersMapping = api;
})(typeof globalThis !== "undefined" ? globalThis : this);
