// aga replay: the page's pure logic (no DOM), shared by replay.js and the node tests.
// Loaded in the browser as the global `AgaCore`, in node with require().
(function (root, factory) {
  const api = factory();
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.AgaCore = api;
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // Speed n plays 60 * 2^(n-1) / 32 steps per second: for n = 1..6 the original's
  // 1, 2, 4, ... 32 pixels per frame on 32-pixel tiles at 60 frames per second;
  // 7..9 go on doubling, to get through nights quickly.
  const SPEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  function stepsPerSecond(speed) {
    const n = Math.min(9, Math.max(1, Math.round(speed)));
    return (60 * Math.pow(2, n - 1)) / 32;
  }

  // "sleeping @ the Ville:Hobbs Cafe:cafe:bed" -> {action: "sleeping", place: "the Ville:..."}
  function splitDescription(description) {
    const text = description || "";
    const at = text.indexOf(" @ ");
    if (at < 0) return { action: text.trim(), place: "" };
    return { action: text.slice(0, at).trim(), place: text.slice(at + 3).trim() };
  }

  // The place without the world prefix, levels joined by " › ".
  function shortPlace(place) {
    if (!place) return "";
    if (place.startsWith("<persona>")) return "with " + place.slice(9).trim();
    const parts = place.split(":").filter(Boolean);
    return (parts.length > 1 ? parts.slice(1) : parts).join(" › ");
  }

  // A short text label for an action, shown instead of its emoji where no emoji font exists:
  // the action's first word (lower case, at most 10 letters), e.g. "sleeping", "brewing".
  function shortLabel(description) {
    const action = splitDescription(description).action.toLowerCase();
    const word = (action.match(/[a-z\u00c0-\u024f]+/) || [""])[0];
    return word.length > 10 ? word.slice(0, 9) + "…" : word;
  }

  function initials(name) {
    const words = (name || "?").split(/\s+/).filter(Boolean);
    if (words.length === 1) return words[0].slice(0, 2).toUpperCase();
    return (words[0][0] + words[words.length - 1][0]).toUpperCase();
  }

  // A colour per name: FNV-1a of the name picks the hue (display only, never stored).
  function colorFor(name) {
    let h = 0x811c9dc5;
    for (let i = 0; i < name.length; i++) {
      h ^= name.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return "hsl(" + (h % 360) + ", 65%, 45%)";
  }

  const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];
  const pad = (n) => String(n).padStart(2, "0");

  // Game time of `step` as "Monday, February 13, 2023, 06:30:00". `startIso` is a naive
  // ISO date-time ("2023-02-13T00:00:00"); it is read as UTC so the viewer's own time zone
  // never shifts the clock.
  function gameTime(startIso, secPerStep, step) {
    const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})/.exec(startIso || "");
    if (!m) return "";
    const t0 = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    const d = new Date(t0 + step * secPerStep * 1000);
    return DAYS[d.getUTCDay()] + ", " + MONTHS[d.getUTCMonth()] + " " + d.getUTCDate() + ", " +
      d.getUTCFullYear() + ", " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" +
      pad(d.getUTCSeconds());
  }

  // A chunk from /api/sims/<sim>/steps -> one full state per step (entries are shared).
  function expandChunk(chunk) {
    const frames = [];
    let state = Object.assign({}, chunk.state);
    frames.push(state);
    for (const changes of chunk.changes) {
      state = Object.assign({}, state, changes);
      frames.push(state);
    }
    return frames;
  }

  // Chunks of steps by index; knows what is loaded, what is being fetched and what to drop.
  class ChunkCache {
    constructor(size) {
      this.size = size;
      this.chunks = new Map(); // index -> {start, stop, frames, complete}
      this.pending = new Set();
    }
    index(step) { return Math.floor(step / this.size); }
    put(chunk) {
      const i = this.index(chunk.start);
      this.chunks.set(i, {
        start: chunk.start, stop: chunk.stop, frames: expandChunk(chunk),
        complete: chunk.stop - chunk.start === this.size,
      });
      this.pending.delete(i);
    }
    frame(step) {
      const c = this.chunks.get(this.index(step));
      if (!c || step < c.start || step >= c.stop) return null;
      return c.frames[step - c.start];
    }
    has(step) { return this.frame(step) !== null; }
    // Chunk indexes to fetch so that steps from..from+ahead (below total) are loaded; a chunk
    // that was short when fetched (a live run's last) is fetched again once total passed it.
    wanted(from, ahead, total) {
      const out = [];
      const last = Math.min(total - 1, from + ahead);
      for (let i = this.index(Math.max(0, from)); i <= this.index(Math.max(0, last)); i++) {
        if (i * this.size >= total || this.pending.has(i)) continue;
        const c = this.chunks.get(i);
        if (!c || (!c.complete && c.stop < total)) out.push(i);
      }
      return out;
    }
    // Drop chunks outside [keepFrom, keepTo] (steps) once more than `max` are held.
    evict(keepFrom, keepTo, max) {
      if (this.chunks.size <= max) return;
      const lo = this.index(Math.max(0, keepFrom)), hi = this.index(Math.max(0, keepTo));
      for (const i of [...this.chunks.keys()]) if (i < lo || i > hi) this.chunks.delete(i);
    }
  }

  // Where to draw a resident at fractional step `pos` between its tiles at floor(pos) and
  // floor(pos)+1: a walk to a neighbouring tile glides, a longer jump happens at the next step.
  function position(a, b, frac) {
    if (!a) return b ? { x: b[0], y: b[1] } : null;
    if (!b) return { x: a[0], y: a[1] };
    const far = Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) > 2;
    if (far) return { x: a[0], y: a[1] };
    return { x: a[0] + (b[0] - a[0]) * frac, y: a[1] + (b[1] - a[1]) * frac };
  }

  // The view that shows the whole map centred in a viewW x viewH canvas (map in pixels).
  function fitView(viewW, viewH, mapW, mapH) {
    const scale = Math.min(viewW / mapW, viewH / mapH);
    return { scale: scale, x: (viewW - mapW * scale) / 2, y: (viewH - mapH * scale) / 2 };
  }

  // Keep at least a quarter of the view on the map so panning never loses it.
  function clampView(v, viewW, viewH, mapW, mapH) {
    const w = mapW * v.scale, h = mapH * v.scale;
    const mx = viewW / 4, my = viewH / 4;
    return {
      scale: v.scale,
      x: Math.min(viewW - mx, Math.max(mx - w, v.x)),
      y: Math.min(viewH - my, Math.max(my - h, v.y)),
    };
  }

  return {
    SPEEDS, stepsPerSecond, splitDescription, shortPlace, shortLabel, initials, colorFor, gameTime,
    expandChunk, ChunkCache, position, fitView, clampView,
  };
});
