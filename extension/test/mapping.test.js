// Unit tests of the extension's URL mapping: `node --test extension/test/` (run by pytest,
// tests/test_extension.py, so that `make test` runs them too).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const m = require("../mapping.js");
// venue paper URLs and their public ids, as the server's parsers give them (see "about")
const VENUE = require("./venue_urls.json");

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
  assert.equal(m.site("https://openreview.net/attachment?id=rJXMpikCZ&name=pdf"), "openreview");
  assert.equal(m.site("https://proceedings.mlr.press/v336/aamand26a.html"), "pmlr");
  assert.equal(m.site("https://proceedings.mlr.press/v336/aamand26a/aamand26a.pdf"), "pmlr");
  assert.equal(m.site("https://www.ijcai.org/proceedings/2024/176"), "ijcai");
  assert.equal(m.site("https://www.ijcai.org/proceedings/2024/0176.pdf"), "ijcai");
  assert.equal(m.site("https://openaccess.thecvf.com/content_CVPR_2019/html/A_B_CVPR_2019_paper.html"), "cvf");
  assert.equal(m.site("https://openaccess.thecvf.com/content/WACV2025/papers/A_B_WACV_2025_paper.pdf"), "cvf");
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
  assert.equal(m.targetForPage(B, "https://aclanthology.org/P19-1001/", busy), `${B}/venue/P19-1001@ACL?else=%2Farxiv%2F2309.16354`);
  assert.equal(m.landingPage("https://aclanthology.org/P19-1001.pdf"), "https://aclanthology.org/P19-1001/");
  // a link to a paper page still maps; a link to a listing does not
  assert.equal(m.pageInfo({ hrefs: ["https://arxiv.org/list/cs.CL/new", "https://arxiv.org/abs/1406.2661"] }).ids[0], "1406.2661");
});

test("OpenReview and ACL Anthology: an arXiv link on the page, else a title search", () => {
  const forum = "https://openreview.net/forum?id=rJXMpikCZ";
  const linked = m.pageInfo({ hrefs: ["https://openreview.net/pdf?id=rJXMpikCZ", "https://arxiv.org/abs/1710.10903v3"], title: "Graph Attention Networks" });
  assert.deepEqual(linked.ids, ["1710.10903"]);
  // the venue page, falling back to the arXiv version (else=/arxiv/1710.10903)
  assert.equal(m.targetForPage(B, forum, linked), `${B}/venue/rJXMpikCZ@OpenReview?else=%2Farxiv%2F1710.10903`);
  const unlinked = m.pageInfo({ hrefs: ["/group?id=ICLR.cc/2018"], title: "  Graph  Attention\nNetworks " });
  assert.equal(m.targetForPage(B, forum, unlinked),
    `${B}/venue/rJXMpikCZ@OpenReview?else=${encodeURIComponent("/arxiv/search?query=Graph%20Attention%20Networks")}`);
  // nothing to fall back to: the venue page alone
  assert.equal(m.targetForPage(B, "https://aclanthology.org/2023.acl-long.1/", { ids: [], title: "" }), `${B}/venue/2023.acl-long.1@ACL`);
  // a page whose id the server's parser rejects (too short a forum id) opens as before
  assert.equal(m.targetForPage(B, "https://openreview.net/forum?id=abcd", linked), `${B}/arxiv/1710.10903`);
  assert.equal(m.targetForPage(B, "https://openreview.net/forum?id=abcd", unlinked), `${B}/arxiv/search?query=Graph%20Attention%20Networks`);
  assert.equal(m.targetForPage(B, "https://openreview.net/forum?id=abcd", { ids: [], title: "" }), null);
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

test("venue ids: every URL form of each site, as the server's parsers read them (venue_urls.json)", () => {
  const kinds = { "openreview.net": "openreview", "aclanthology.org": "acl", "proceedings.mlr.press": "pmlr",
    "ijcai.org": "ijcai", "openaccess.thecvf.com": "cvf" };
  assert.ok(VENUE.papers.length >= 40 && VENUE.not_papers.length >= 40);
  for (const [url, id] of VENUE.papers) {
    assert.equal(m.venueId(url), id, url);
    assert.equal(m.site(url), kinds[new URL(url).hostname.replace(/^www\./, "")], url);
    assert.equal(m.idFromUrl(url), null, url); // no arXiv id of its own
    // its landing page is the same paper's page on the same site, and its own landing page
    const landing = m.landingPage(url);
    assert.match(landing, /^https:\/\//, url);
    assert.equal(m.venueId(landing), id, `${url} -> ${landing}`);
    assert.equal(m.landingPage(landing), landing, landing);
    // the target: /venue/<id>, '@' and '.' unescaped
    assert.equal(m.targetForPage(B, url, { ids: [], title: "" }), `${B}/venue/${id}`, url);
  }
  for (const url of VENUE.not_papers) {
    assert.equal(m.venueId(url), null, url);
    const host = new URL(url).hostname.replace(/^www\./, "");
    if (["proceedings.mlr.press", "ijcai.org", "openaccess.thecvf.com"].includes(host)) {
      // new sites: only their paper pages are mapped at all (no link, no menu action)
      assert.equal(m.site(url), null, url);
      assert.equal(m.landingPage(url), null, url);
      assert.equal(m.targetForPage(B, url, { ids: ["2309.16354"], title: "Proceedings" }), null, url);
    } else {
      // OpenReview, ACL: what the server rejects is no venue page; what opened before still does
      const t = m.targetForPage(B, url, { ids: ["2309.16354"], title: "T" });
      assert.ok(t === null || t === `${B}/arxiv/2309.16354`, `${url}: ${t}`);
    }
  }
  // supplements in PMLR's volumes 28-53 sit beside the paper (the server's parser would read a
  // paper id "ioffe15-supp" there: no paper id ends so)
  assert.equal(m.venueId("https://proceedings.mlr.press/v37/ioffe15-supp.pdf"), null);
  assert.equal(m.site("https://proceedings.mlr.press/v37/ioffe15-supp.pdf"), null);
  // not web pages, other hosts, arXiv and Hugging Face: no venue id
  for (const url of ["not a url", "", "file:///v336/aamand26a.html", "ftp://proceedings.mlr.press/v336/aamand26a.html",
    "https://example.org/proceedings/2024/176", "https://mlr.press/v336/aamand26a.html", "https://thecvf.com/content_CVPR_2019/html/A_B_CVPR_2019_paper.html",
    "https://arxiv.org/abs/2309.16354", "https://huggingface.co/papers/2309.16354", "https://openreview.net.example.com/forum?id=rJXMpikCZ"]) {
    assert.equal(m.venueId(url), null, url);
  }
});

test("venue landing pages: the paper's page on its own site, read for an arXiv link and the title", () => {
  const cases = {
    "https://openreview.net/pdf?id=rJXMpikCZ": "https://openreview.net/forum?id=rJXMpikCZ",
    "https://openreview.net/attachment?id=rJXMpikCZ&name=pdf": "https://openreview.net/forum?id=rJXMpikCZ",
    "https://aclanthology.org/2024.eacl-long.69v2.pdf": "https://aclanthology.org/2024.eacl-long.69/",
    "https://aclanthology.org/p17-1001.pdf": "https://aclanthology.org/P17-1001/",
    "https://proceedings.mlr.press/v336/aamand26a/aamand26a.pdf": "https://proceedings.mlr.press/v336/aamand26a.html",
    "https://proceedings.mlr.press/v37/ioffe15.pdf": "https://proceedings.mlr.press/v37/ioffe15.html",
    "http://proceedings.mlr.press/v336/aamand26a": "https://proceedings.mlr.press/v336/aamand26a.html",
    "https://www.ijcai.org/proceedings/2024/0176.pdf": "https://www.ijcai.org/proceedings/2024/176",
    "https://ijcai.org/Proceedings/2019/0001.pdf": "https://www.ijcai.org/proceedings/2019/1",
    "https://openaccess.thecvf.com/content/WACV2025/papers/Wang_360PanT_WACV_2025_paper.pdf":
      "https://openaccess.thecvf.com/content/WACV2025/html/Wang_360PanT_WACV_2025_paper.html",
    "https://openaccess.thecvf.com/content_cvpr_2018/papers/Zhang_RDN_CVPR_2018_paper.pdf":
      "https://openaccess.thecvf.com/content_cvpr_2018/html/Zhang_RDN_CVPR_2018_paper.html",
    "https://openaccess.thecvf.com/content/CVPR2023W/papers/NTIRE/Li_Fast_CVPRW_2023_paper.pdf":
      "https://openaccess.thecvf.com/content/CVPR2023W/html/NTIRE/Li_Fast_CVPRW_2023_paper.html",
  };
  for (const [url, landing] of Object.entries(cases)) assert.equal(m.landingPage(url), landing, url);
  // pages the extension maps although the server's parser rejects their id: as before
  assert.equal(m.landingPage("https://openreview.net/pdf?id=abcd"), "https://openreview.net/forum?id=abcd");
  assert.equal(m.landingPage("https://aclanthology.org/2023.acl-long-x.1v2.pdf"), "https://aclanthology.org/2023.acl-long-x.1/");
  // what each site's page says (CVF links the arXiv version; PMLR and IJCAI set citation_title)
  const cvf = `<html><head><meta name="citation_title" content="360PanT: Training-Free Text-Driven 360-Degree Panorama-to-Panorama Translation">
    <title>WACV 2025 Open Access Repository</title></head><body>
    <a href="../../../content/WACV2025/papers/Wang_360PanT_WACV_2025_paper.pdf">pdf</a>
    <a href="http://arxiv.org/abs/2409.08397">arXiv</a></body></html>`;
  const info = m.pageInfoFromHtml(cvf);
  assert.deepEqual(info.ids, ["2409.08397"]);
  const url = "https://openaccess.thecvf.com/content/WACV2025/papers/Wang_360PanT_WACV_2025_paper.pdf";
  assert.equal(m.targetForPage(B, url, info), `${B}/venue/Wang_360PanT_WACV_2025_paper@CVF?else=%2Farxiv%2F2409.08397`);
});

test("venue targets: the venue page, else what opened before (arXiv link, title search, none)", () => {
  const url = "https://proceedings.mlr.press/v336/aamand26a.html";
  const venue = `${B}/venue/aamand26a@v336@PMLR`;
  // an arXiv link on the page: its id (the first), as before
  assert.equal(m.targetForPage(B, url, { ids: ["2502.01234", "1706.03762"], title: "T" }), `${venue}?else=%2Farxiv%2F2502.01234`);
  assert.equal(m.targetForPage(B, url, { ids: ["hep-th/9901001"], title: "" }), `${venue}?else=%2Farxiv%2Fhep-th%2F9901001`);
  // else the title's search
  assert.equal(m.targetForPage(B, url, { ids: [], title: "Sparse Sums" }), `${venue}?else=%2Farxiv%2Fsearch%3Fquery%3DSparse%2520Sums`);
  // nothing: no else
  for (const info of [undefined, null, { ids: [], title: "" }, { ids: [], title: "  \n " }, {}]) {
    assert.equal(m.targetForPage(B, url, info), venue, JSON.stringify(info));
  }
  // each site's id in the path as it is
  assert.equal(m.targetForPage(B, "https://www.ijcai.org/proceedings/2024/0176.pdf"), `${B}/venue/176@2024@IJCAI`);
  assert.equal(m.targetForPage(B, "https://aclanthology.org/2024.acl-long.1.pdf"), `${B}/venue/2024.acl-long.1@ACL`);
  assert.equal(m.targetForPage(B, "https://openreview.net/pdf?id=Sk_Z-1x9A"), `${B}/venue/Sk_Z-1x9A@OpenReview`);
  assert.equal(m.targetForPage(B, "https://openaccess.thecvf.com/content/ICCV2023/html/Doe_V1.5_ICCV_2023_paper.html"),
    `${B}/venue/Doe_V1.5_ICCV_2023_paper@CVF`);
  // a base with a path: the venue page under it, `else` the path on the instance (relative to the base)
  assert.equal(m.targetForPage("https://example.org/cool/", url, { ids: ["2502.01234"] }),
    "https://example.org/cool/venue/aamand26a@v336@PMLR?else=%2Farxiv%2F2502.01234");
  assert.equal(m.targetForPage("papers.lab:8080", url, {}), "http://papers.lab:8080/venue/aamand26a@v336@PMLR");
});

test("venue targets with odd characters: `else` decodes to the old target's path exactly", () => {
  const url = "https://openreview.net/forum?id=rJXMpikCZ";
  const titles = [
    "What & Why? 100% #1 a+b=c / d \\ e",
    "Ünïcödé — naïve 数学 ∑ (x_i) <tag> \"quoted\" 'single'",
    "😀".repeat(299) + " tail",          // 300 characters, never cut inside one
    "a\uD800b \uDC00c",                    // lone surrogates (a cut title): no URIError
    "?else=/evil&x=%2F%2Fevil.example",
    "  spaced\t\nout  ",
  ];
  for (const title of titles) {
    const info = m.pageInfo({ hrefs: [], title });
    const old = m.targetForPage(B, "https://openreview.net/forum?id=abcd", info); // the old target
    assert.ok(old.startsWith(`${B}/arxiv/search?query=`), old);
    const target = m.targetForPage(B, url, info);
    const u = new URL(target);
    assert.equal(u.origin + u.pathname, `${B}/venue/rJXMpikCZ@OpenReview`, target);
    assert.deepEqual([...u.searchParams.keys()], ["else"], target); // one parameter, whatever the title
    const back = u.searchParams.get("else");
    assert.ok(back.startsWith("/arxiv/search?query=") && !back.startsWith("//"), back);
    assert.equal(`${B}${back}`, old, title);
    assert.equal(target, `${B}/venue/rJXMpikCZ@OpenReview?else=${encodeURIComponent(back)}`);
    // the query searched is the title, spaces folded, 300 characters at most
    const q = new URL(old).searchParams.get("query");
    assert.ok([...q].length <= 300 && q === q.trim() && !/\s\s/.test(q), q);
  }
  assert.equal(new URL(m.targetForPage(B, url, m.pageInfo({ title: "😀".repeat(299) + " tail" }))).searchParams.get("else"),
    `/arxiv/search?query=${encodeURIComponent("😀".repeat(299))}`);
  // odd characters in the page's URL: ids the server's parsers reject are no venue ids
  for (const bad of ["https://openreview.net/forum?id=rJX%20MpikCZ", "https://openreview.net/forum?id=rJX+MpikCZ",
    "https://openreview.net/forum?id=rJX%2FMpikCZ", "https://openreview.net/forum?id=%C3%A9t%C3%A9abc",
    "https://openaccess.thecvf.com/content/CVPR2024/html/M%C3%BCller_X_CVPR_2024_paper.html",
    "https://openaccess.thecvf.com/content/CVPR2024/html/M\u00fcller_X_CVPR_2024_paper.html",
    "https://proceedings.mlr.press/v336/m%C3%BCller26a.html", "https://proceedings.mlr.press/v336/a.b26a.html",
    "https://aclanthology.org/2024.acl%2Dlong.1/", "https://www.ijcai.org/proceedings/2024/%31%37%36"]) {
    assert.equal(m.venueId(bad), null, bad);
  }
  // an encoded '=' or '&' in a query value is data, not a separator (the id is what OpenReview reads)
  assert.equal(m.venueId("https://openreview.net/forum?noteId=a%26id%3Dzzzzzz&id=rJXMpikCZ"), "rJXMpikCZ@OpenReview");
});
