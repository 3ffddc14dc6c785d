// coolpapers extension options: the reader's own instance URL, kept in chrome.storage.sync.
"use strict";
const M = globalThis.CoolpapersMapping;
const input = document.getElementById("base");
chrome.storage.sync.get({ base: M.DEFAULT_BASE }).then(({ base }) => { input.value = base; });
document.getElementById("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const base = M.normalizeBase(input.value);
  await chrome.storage.sync.set({ base });
  input.value = base;
  document.getElementById("status").textContent = "Saved.";
});
