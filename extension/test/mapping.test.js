// Unit tests of the extension's URL mapping: `node --test extension/test/` (run by pytest,
// tests/test_extension.py, so that `make test` runs them too).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const m = require("../mapping.js");

const B = "http://127.0.0.1:8000";

test("arXiv abs, pdf and html URLs in every form", () => {
  const cases = {
    "https://arxiv.org/abs/2309.16354": "2309.16354",
    "https://arxiv.org/abs/2309.16354v2": "2309.16354",
    "http://www.arxiv.org/abs/1406.2661?context=cs": "1406.2661",
    "https://export.arxiv.org/abs/0704.0001": "0704.0001",
    "https://arxiv.org/pdf/2309.16354": "2309.16354",
    "https://arxiv.org/pdf/2309.16354v1": "2309.16354",
    "https://arxiv.org/pdf/2309.16354v1.pdf": "2309.16354",
    "https://arxiv.org/pdf/1706.03762.pdf#page=3": "1706.03762",
    "https://arxiv.org/html/2309.16354v2": "2309.16354",
    "https://arxiv.org/html/2309.16354v2/#S3.SS1": "2309.16354",
    "https://arxiv.org/abs/hep-th/9901001": "hep-th/9901001",
    "https://arxiv.org/abs/hep-th/9901001v3": "hep-th/9901001",
    "https://arxiv.org/pdf/math.GT/0309136": "math.GT/0309136",
    "https://arxiv.org/pdf/astro-ph/0601001v1.pdf": "astro-ph/0601001",
    "https://huggingface.co/papers/2309.16354": "2309.16354",
    "https://huggingface.co/papers/2309.16354#community": "2309.16354",
  };
  for (const [url, id] of Object.entries(cases)) {
    assert.equal(m.idFromUrl(url), id, url);
    assert.equal(m.targetForPage(B, url), `${B}/arxiv/${id}`, url);
  }
});

test("supported sites, and pages that are not papers", () => {
  assert.equal(m.site("https://openreview.net/forum?id=rJXMpikCZ"), "openreview");
  assert.equal(m.site("https://openreview.net/pdf?id=rJXMpikCZ"), "openreview");
  assert.equal(m.site("https://aclanthology.org/2023.acl-long.1/"), "acl");
  assert.equal(m.site("https://aclanthology.org/2023.acl-long.1.pdf"), "acl");
  assert.equal(m.site("https://aclanthology.org/P19-1001.pdf"), "acl");
  for (const url of ["https://arxiv.org/", "https://arxiv.org/list/cs.CL/new", "https://openreview.net/forum",
    "https://openreview.net/group?id=ICLR.cc", "https://huggingface.co/papers", "https://aclanthology.org/",
    "https://aclanthology.org/events/acl-2023/", "https://example.org/abs/2309.16354", "file:///abs/2309.16354", "not a url"]) {
    assert.equal(m.idFromUrl(url), null, url);
  }
  // a huggingface paper page without an arXiv id names none
  assert.equal(m.idFromUrl("https://huggingface.co/papers/trending"), null);
});

test("only paper pages are mapped: listings, trending, daily, events and people pages are not", () => {
  // what such a page offers: links to arXiv papers and a generic title
  const busy = { ids: ["2309.16354", "1406.2661"], title: "Daily Papers - Hugging Face" };
  const notPapers = [
    "https://huggingface.co/papers/trending", "https://huggingface.co/papers/date/2026-06-04",
    "https://huggingface.co/papers/week/2026-W23", "https://huggingface.co/papers/month/2026-06",
    "https://huggingface.co/papers?date=2026-06-04", "https://huggingface.co/papers/",
    "https://huggingface.co/papers/2309.16354/extra", "https://huggingface.co/papers/x2309.16354",
    "https://huggingface.co/2309.16354",
    "https://aclanthology.org/events/", "https://aclanthology.org/events/acl-2023/",
    "https://aclanthology.org/people/", "https://aclanthology.org/people/y/yoav-goldberg/",
    "https://aclanthology.org/volumes/2023.acl-long/", "https://aclanthology.org/venues/acl/",
    "https://aclanthology.org/faq/", "https://aclanthology.org/search/?q=bert",
    "https://aclanthology.org/2023.acl-long.1.bib", "https://aclanthology.org/2023.acl-long/",
    "https://openreview.net/group?id=ICLR.cc/2024/Conference", "https://openreview.net/forum?id=",
    "https://openreview.net/profile?id=~Ada_Lovelace1", "https://openreview.net/",
    "https://arxiv.org/abs/", "https://arxiv.org/pdf/", "https://arxiv.org/html/",
    "https://arxiv.org/list/cs.CL/new", "https://arxiv.org/html/foo/2309.16354",
    "https://arxiv.org/abs/see-2309.16354", "https://arxiv.org/search/?query=2309.16354",
  ];
  for (const url of notPapers) {
    assert.equal(m.site(url), null, url);
    assert.equal(m.idFromUrl(url), null, url);
    assert.equal(m.targetForPage(B, url, busy), null, url); // the injected link and the menu
    assert.equal(m.landingPage(url), null, url);
  }
  // paper pages of each site stay mapped (ACL: new- and old-style ids, landing page or PDF)
  const papers = {
    "https://aclanthology.org/2023.acl-long.1/": "acl", "https://aclanthology.org/2023.acl-long.1": "acl",
    "https://aclanthology.org/2022.findings-emnlp.12.pdf": "acl", "https://aclanthology.org/P19-1001/": "acl",
    "https://aclanthology.org/W18-5446.pdf": "acl", "https://openreview.net/forum?id=rJXMpikCZ&noteId=x": "openreview",
    "https://openreview.net/pdf?id=rJXMpikCZ": "openreview", "https://huggingface.co/papers/2309.16354": "hf",
    "https://huggingface.co/papers/2309.16354/": "hf", "https://arxiv.org/html/2309.16354v2/S3.html": "arxiv",
  };
  for (const [url, kind] of Object.entries(papers)) assert.equal(m.site(url), kind, url);
  assert.equal(m.targetForPage(B, "https://aclanthology.org/P19-1001/", busy), `${B}/arxiv/2309.16354`);
  assert.equal(m.landingPage("https://aclanthology.org/P19-1001.pdf"), "https://aclanthology.org/P19-1001/");
  // a link to a paper page still maps; a link to a listing does not
  assert.equal(m.pageInfo({ hrefs: ["https://arxiv.org/list/cs.CL/new", "https://arxiv.org/abs/1406.2661"] }).ids[0], "1406.2661");
});

test("OpenReview and ACL Anthology: an arXiv link on the page, else a title search", () => {
  const forum = "https://openreview.net/forum?id=rJXMpikCZ";
  const linked = m.pageInfo({ hrefs: ["https://openreview.net/pdf?id=rJXMpikCZ", "https://arxiv.org/abs/1710.10903v3"], title: "Graph Attention Networks" });
  assert.deepEqual(linked.ids, ["1710.10903"]);
  assert.equal(m.targetForPage(B, forum, linked), `${B}/arxiv/1710.10903`);
  const unlinked = m.pageInfo({ hrefs: ["/group?id=ICLR.cc/2018"], title: "  Graph  Attention\nNetworks " });
  assert.equal(m.targetForPage(B, forum, unlinked), `${B}/arxiv/search?query=Graph%20Attention%20Networks`);
  assert.equal(m.targetForPage(B, "https://aclanthology.org/2023.acl-long.1/", { ids: [], title: "" }), null);
  // the service worker reads fetched HTML (PDF pages have no DOM)
  const html = `<html><head><title>ignored</title><meta name="citation_title" content="One Model &amp; Many Tasks">
    </head><body><a href="https://www.arxiv.org/pdf/2305.01234">arXiv</a></body></html>`;
  assert.deepEqual(m.pageInfoFromHtml(html), { ids: ["2305.01234"], title: "One Model & Many Tasks" });
  assert.deepEqual(m.pageInfoFromHtml("<title>A &quot;Title&quot;</title>"), { ids: [], title: 'A "Title"' });
  assert.equal(m.landingPage("https://openreview.net/pdf?id=rJXMpikCZ"), forum);
  assert.equal(m.landingPage("https://aclanthology.org/2023.acl-long.1.pdf"), "https://aclanthology.org/2023.acl-long.1/");
  assert.equal(m.landingPage("https://arxiv.org/abs/2309.16354"), null);
});

test("selections: several ids open together, text becomes a search", () => {
  const sel = "see arXiv:2309.16354v2, https://arxiv.org/abs/1406.2661 and hep-th/9901001; again 2309.16354";
  assert.deepEqual(m.idsInText(sel), ["2309.16354", "1406.2661", "hep-th/9901001"]);
  assert.equal(m.targetForSelection(B, sel), `${B}/arxiv/2309.16354,1406.2661,hep-th/9901001`);
  assert.equal(m.targetForSelection(B, "doi:10.48550/arXiv.1706.03762"), `${B}/arxiv/1706.03762`);
  assert.equal(m.targetForSelection(B, "linear attention  for\nlong context"), `${B}/arxiv/search?query=linear%20attention%20for%20long%20context`);
  assert.equal(m.targetForSelection(B, "   "), null);
  // not ids: bad months, too many digits, version numbers, 4 digits after 2015, dotted decimals
  assert.deepEqual(m.idsInText("1.2309.163541 2313.12345 2309.1234 v1.2 3.14159 1912.12345x"), []);
  assert.deepEqual(m.idsInText("0704.0001 and 1412.6980 and 1501.00001"), ["0704.0001", "1412.6980", "1501.00001"]);
  assert.deepEqual(m.idsInText("foo/9901001 hep-th/9913001"), []);
});

test("the instance URL from the options page", () => {
  assert.equal(m.normalizeBase(""), m.DEFAULT_BASE);
  assert.equal(m.normalizeBase(undefined), "http://127.0.0.1:8000");
  assert.equal(m.normalizeBase("https://papers.example.org/"), "https://papers.example.org");
  assert.equal(m.normalizeBase("papers.lab:8080//"), "http://papers.lab:8080");
  assert.equal(m.normalizeBase("https://example.org/cool/"), "https://example.org/cool");
  assert.equal(m.targetForSelection("https://example.org/cool/", "1406.2661"), "https://example.org/cool/arxiv/1406.2661");
});
