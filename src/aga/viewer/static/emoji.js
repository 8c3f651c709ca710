// aga viewer: can this browser draw a given emoji? Without a font that has it, it comes out as
// an empty box ("tofu"), so the pages show a text label instead. Detection, per code point:
// draw it and a code point no font has (U+10FFFD, private use) on small canvases; identical
// pixels (or no ink) mean it is tofu. Results are cached per text. Nothing is downloaded: no web
// font, no images fetched. `?emoji=0` forces the labels, `?emoji=1` forces the emoji.
(function (root) {
  "use strict";
  const cache = new Map();
  let tofu = null;
  const SKIP = new Set([0x200d, 0xfe0e, 0xfe0f, 0x20e3]); // joiners and variation selectors draw nothing alone
  function pixels(text) {
    const c = document.createElement("canvas");
    c.width = c.height = 32;
    const g = c.getContext("2d");
    g.fillStyle = "#000";
    g.textBaseline = "top";
    g.font = "24px system-ui, 'Noto Color Emoji', 'Apple Color Emoji', 'Segoe UI Emoji', sans-serif";
    g.fillText(text, 2, 2);
    return g.getImageData(0, 0, 32, 32).data;
  }
  function drawable(ch) {
    if (tofu === null) tofu = pixels("\u{10FFFD}");
    const a = pixels(ch);
    let same = true, ink = false;
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== tofu[i]) same = false;
      if (a[i] !== 0) ink = true;
    }
    return ink && !same;
  }
  function renders(text) {
    if (!text) return true;
    const forced = new URLSearchParams(location.search).get("emoji");
    if (forced === "0" || forced === "1") return forced === "1";
    if (cache.has(text)) return cache.get(text);
    let ok = true;
    try {
      for (const ch of text) {
        const cp = ch.codePointAt(0);
        if (cp < 0x80 || SKIP.has(cp) || (cp >= 0x1f3fb && cp <= 0x1f3ff)) continue; // ascii, joiners, skin tones
        if (!drawable(ch)) { ok = false; break; }
      }
    } catch (e) {
      ok = false;
    }
    cache.set(text, ok);
    return ok;
  }
  root.AgaEmoji = { renders: renders };
})(window);
