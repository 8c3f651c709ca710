// aga replay page: draws the town, moves the residents, fetches steps in chunks ahead of play.
(function () {
  "use strict";
  const C = window.AgaCore;
  const cfg = JSON.parse(document.getElementById("config").textContent);
  const $ = (id) => document.getElementById(id);
  const canvas = $("map");
  const ctx = canvas.getContext("2d");
  const MAX_CHUNKS = 12; // chunks held in memory at once
  const PAN_SPEED = 700; // screen pixels per second for the arrow keys

  let info = null; // /api/sims/<sim>
  let cache = null; // C.ChunkCache
  let total = 0; // steps known so far (grows while a live run goes on)
  let picture = null; // the town image, or null (then a grid)
  let tile = 24, gridW = 140, gridH = 100; // pixels per tile in the picture; map size in tiles
  let pos = cfg.step; // the fractional step being shown
  let speed = cfg.speed;
  let playing = false;
  let view = { scale: 1, x: 0, y: 0 };
  let fitted = true; // keep fitting the map to the screen until the user pans or zooms
  let following = null; // name of the resident the camera follows
  let lastTime = 0, lastPump = 0, lastUrl = 0, lastPoll = 0;
  let shownStep = -1, status = "", error = "";
  const shown = new Map(); // name -> entry last written into its card
  const held = new Set(); // keys held down (panning)
  const cards = new Map(); // name -> card elements
  // Read-only figures for bench/viewer.py (and the curious, in the browser console).
  const stats = { frames: 0, playingFrames: 0, stalledFrames: 0, chunks: 0, bytes: 0, slowestFrameMs: 0 };
  window.agaReplay = {
    stats: stats,
    get step() { return pos; },
    get total() { return total; },
    get playing() { return playing; },
    get held() { return cache ? cache.chunks.size : 0; },
    get following() { return following; },
    emojiShown(text) { return showEmoji(text); },
    get radiusPx() { return Math.max(tile * 0.55, 11 / view.scale) * view.scale; }, // a disc's radius on screen
    live: { events: 0, last: null }, // server-sent events received (a running simulation)
    // Where resident `name` is drawn, in the page's CSS pixels (for tests and tools), or null.
    screenPos(name) {
      const p = where(name);
      if (!p) return null;
      const rect = canvas.getBoundingClientRect();
      return { x: rect.left + view.x + (p.x + 0.5) * tile * view.scale,
        y: rect.top + view.y + (p.y + 0.5) * tile * view.scale };
    },
    tileOf(name) { const f = cache && cache.frame(Math.floor(pos)); return f && f[name] ? f[name].movement : null; },
  };
  // Emoji need a font that has them; without one the bubble and the cards show a text label.
  const showEmoji = (text) => (window.AgaEmoji ? window.AgaEmoji.renders(text) : true);

  // ------------------------------------------------------------------ data
  async function getJSON(url) {
    const res = await fetch(url, { cache: "no-store" });
    let body = null;
    try { body = await res.json(); } catch (e) { body = { error: res.status + " " + res.statusText }; }
    if (!res.ok) throw new Error(body.error || res.statusText);
    return body;
  }

  function names() {
    return info ? info.names : [];
  }

  function pump(force) {
    if (!cache || total === 0) return;
    const now = performance.now();
    if (!force && now - lastPump < 250) return;
    lastPump = now;
    const rate = C.stepsPerSecond(speed);
    const ahead = playing ? Math.min(8 * info.chunk, Math.max(info.chunk, Math.ceil(rate * 10))) : 1;
    for (const i of cache.wanted(Math.floor(pos), ahead, total)) fetchChunk(i);
    cache.evict(Math.floor(pos) - info.chunk, Math.floor(pos) + ahead + info.chunk, MAX_CHUNKS);
  }

  async function fetchChunk(i) {
    cache.pending.add(i);
    try {
      const res = await fetch(cfg.api + "/steps?start=" + i * info.chunk + "&count=" + info.chunk, { cache: "no-store" });
      const text = await res.text();
      let chunk = null;
      try { chunk = JSON.parse(text); } catch (e) { throw new Error(res.status + " " + res.statusText); }
      if (!res.ok) throw new Error(chunk.error || res.statusText);
      stats.chunks += 1;
      stats.bytes += text.length;
      total = Math.max(total, chunk.total);
      cache.put(chunk);
      growGrid(chunk.state);
      error = "";
    } catch (e) {
      cache.pending.delete(i);
      error = "could not load steps: " + e.message;
      setTimeout(() => pump(true), 2000);
    }
  }

  let liveStream = null;
  function listenLive() { // a running simulation pushes its new steps (server-sent events)
    if (!info.live || !window.EventSource) return;
    liveStream = new EventSource(cfg.api + "/live?since=" + total);
    liveStream.addEventListener("step", (e) => {
      const msg = JSON.parse(e.data);
      window.agaReplay.live.events += 1;
      window.agaReplay.live.last = msg;
      lastPoll = performance.now();
      if (msg.total > total) { total = msg.total; pump(true); }
      if (window.AgaInspect) window.AgaInspect.live(msg);
    });
    liveStream.onerror = () => { lastPoll = 0; }; // the browser reconnects; polling covers the gap
  }

  async function poll() {
    if (!info.live) return;
    try {
      const fresh = await getJSON(cfg.api);
      if (fresh.total > total) {
        total = fresh.total;
        pump(true);
      }
    } catch (e) {
      error = "lost the server: " + e.message;
    }
  }

  function growGrid(state) { // without a town picture the grid grows to hold every resident
    if (picture) return;
    for (const entry of Object.values(state)) {
      gridW = Math.max(gridW, entry.movement[0] + 2);
      gridH = Math.max(gridH, entry.movement[1] + 2);
    }
  }

  // ------------------------------------------------------------------ view
  function mapW() { return gridW * tile; }
  function mapH() { return gridH * tile; }

  function resize() {
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(canvas.clientWidth * dpr);
    canvas.height = Math.round(canvas.clientHeight * dpr);
    if (fitted) fit(); else view = C.clampView(view, canvas.clientWidth, canvas.clientHeight, mapW(), mapH());
  }

  function fit() {
    view = C.fitView(canvas.clientWidth, canvas.clientHeight, mapW(), mapH());
    fitted = true;
  }

  function zoomAt(factor, sx, sy) {
    const scale = Math.min(8, Math.max(0.05, view.scale * factor));
    const k = scale / view.scale;
    view = C.clampView({ scale: scale, x: sx - (sx - view.x) * k, y: sy - (sy - view.y) * k },
      canvas.clientWidth, canvas.clientHeight, mapW(), mapH());
    fitted = false;
  }

  function panBy(dx, dy) {
    view = C.clampView({ scale: view.scale, x: view.x + dx, y: view.y + dy },
      canvas.clientWidth, canvas.clientHeight, mapW(), mapH());
    fitted = false;
    following = null;
  }

  // ------------------------------------------------------------------ drawing
  function where(name) { // resident position (tiles, fractional) at the current pos
    const s = Math.floor(pos);
    const a = cache && cache.frame(s);
    if (!a || !a[name]) return null;
    const b = cache.frame(s + 1);
    return C.position(a[name].movement, b && b[name] ? b[name].movement : null, pos - s);
  }

  function draw() {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#111620";
    ctx.fillRect(0, 0, w, h);
    if (following) {
      const p = where(following);
      if (p) {
        view.x = w / 2 - (p.x + 0.5) * tile * view.scale;
        view.y = h / 2 - (p.y + 0.5) * tile * view.scale;
      }
    }
    ctx.translate(view.x, view.y);
    ctx.scale(view.scale, view.scale);
    ctx.imageSmoothingEnabled = view.scale < 1;
    if (picture) ctx.drawImage(picture, 0, 0, mapW(), mapH());
    else drawGrid();
    const s = Math.floor(pos);
    const a = cache && cache.frame(s);
    if (!a) return;
    const r = Math.max(tile * 0.55, 11 / view.scale);
    const order = names().concat(Object.keys(a).filter((n) => !names().includes(n)));
    for (const name of order) {
      const p = where(name);
      if (p) drawResident(name, a[name], (p.x + 0.5) * tile, (p.y + 0.5) * tile, r);
    }
  }

  function drawGrid() {
    ctx.fillStyle = "#2a3142";
    ctx.fillRect(0, 0, mapW(), mapH());
    ctx.strokeStyle = "#343d52";
    ctx.lineWidth = 1 / view.scale;
    ctx.beginPath();
    for (let x = 0; x <= gridW; x++) { ctx.moveTo(x * tile, 0); ctx.lineTo(x * tile, mapH()); }
    for (let y = 0; y <= gridH; y++) { ctx.moveTo(0, y * tile); ctx.lineTo(mapW(), y * tile); }
    ctx.stroke();
  }

  function drawResident(name, entry, x, y, r) {
    ctx.beginPath();
    ctx.arc(x, y, r, 0, Math.PI * 2);
    ctx.fillStyle = C.colorFor(name);
    ctx.fill();
    ctx.lineWidth = r * (name === following ? 0.35 : 0.18);
    ctx.strokeStyle = name === following ? "#ffd43b" : "#ffffff";
    ctx.stroke();
    ctx.fillStyle = "#ffffff";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.font = "bold " + r * 0.85 + "px system-ui, sans-serif";
    ctx.fillText(C.initials(name), x, y + r * 0.05);
    const emojiOk = showEmoji(entry.pronunciatio);
    const label = emojiOk ? entry.pronunciatio : C.shortLabel(entry.description);
    if (label) { // the emoji (or, without a font for it, a word of the action) in a bubble above the marker
      ctx.font = (emojiOk ? r * 1.05 : r * 0.7) + "px system-ui, 'Noto Color Emoji', sans-serif";
      const tw = ctx.measureText(label).width;
      const bw = tw + r * 0.6, bh = r * 1.45, bx = x - bw / 2, by = y - r * 1.25 - bh;
      ctx.fillStyle = "rgba(255, 255, 255, 0.93)";
      ctx.beginPath();
      ctx.roundRect ? ctx.roundRect(bx, by, bw, bh, r * 0.4) : ctx.rect(bx, by, bw, bh);
      ctx.moveTo(x - r * 0.25, by + bh);
      ctx.lineTo(x, by + bh + r * 0.3);
      ctx.lineTo(x + r * 0.25, by + bh);
      ctx.fill();
      ctx.fillStyle = "#000";
      ctx.fillText(label, x, by + bh / 2 + r * 0.05);
    }
    if (view.scale * tile >= 18) { // names once zoomed in enough to read them
      ctx.font = r * 0.62 + "px system-ui, sans-serif";
      ctx.lineWidth = r * 0.2;
      ctx.strokeStyle = "rgba(0, 0, 0, 0.75)";
      ctx.strokeText(name, x, y + r * 1.55);
      ctx.fillStyle = "#ffffff";
      ctx.fillText(name, x, y + r * 1.55);
    }
  }

  // ------------------------------------------------------------------ panel and header
  function buildPanel() {
    const panel = $("panel");
    panel.textContent = "";
    for (const name of names()) {
      const card = document.createElement("div");
      card.className = "card";
      card.innerHTML = '<div class="who"><span class="dot"></span><span class="name"></span>' +
        '<span class="emoji"></span></div><div class="row"><span class="k">doing</span> <span class="action"></span></div>' +
        '<div class="row"><span class="k">at</span> <span class="place"></span> <span class="tile"></span></div>' +
        '<div class="chat none">not talking</div>';
      const dot = card.querySelector(".dot");
      dot.textContent = C.initials(name);
      dot.style.background = C.colorFor(name);
      card.querySelector(".name").textContent = name;
      card.addEventListener("click", () => follow(name));
      panel.appendChild(card);
      cards.set(name, {
        card: card, emoji: card.querySelector(".emoji"), action: card.querySelector(".action"),
        place: card.querySelector(".place"), tile: card.querySelector(".tile"), chat: card.querySelector(".chat"),
      });
    }
  }

  function updatePanel(state) {
    for (const [name, c] of cards) {
      c.card.classList.toggle("followed", name === following);
      if (!state) continue;
      const entry = state[name] || null;
      if (shown.get(name) === entry) continue;
      shown.set(name, entry);
      if (!entry) {
        c.emoji.textContent = "";
        c.action.textContent = "(not in the town yet)";
        c.place.textContent = c.tile.textContent = "";
        continue;
      }
      const d = C.splitDescription(entry.description);
      const emojiOk = showEmoji(entry.pronunciatio);
      c.emoji.textContent = emojiOk ? entry.pronunciatio : C.shortLabel(entry.description);
      c.emoji.classList.toggle("label", !emojiOk);
      c.emoji.title = entry.pronunciatio;
      c.action.textContent = d.action || "—";
      c.place.textContent = C.shortPlace(d.place) || "—";
      c.place.title = d.place;
      c.tile.textContent = "(" + entry.movement[0] + ", " + entry.movement[1] + ")";
      c.chat.textContent = "";
      if (entry.chat && entry.chat.length) {
        c.chat.className = "chat";
        for (const [who, line] of entry.chat) {
          const p = document.createElement("p");
          const b = document.createElement("b");
          b.textContent = who + ": ";
          p.appendChild(b);
          p.appendChild(document.createTextNode(line));
          c.chat.appendChild(p);
        }
      } else {
        c.chat.className = "chat none";
        c.chat.textContent = "not talking";
      }
    }
  }

  function updateHeader() {
    const s = Math.floor(pos);
    $("clock").textContent = C.gameTime(info.start, info.sec_per_step, s);
    $("stepnum").textContent = "step " + s + " / " + Math.max(0, total - 1);
    const scrub = $("scrub");
    scrub.max = String(Math.max(0, total - 1));
    if (document.activeElement !== scrub) scrub.value = String(s);
    const box = $("stepbox");
    box.max = String(Math.max(0, total - 1));
    if (document.activeElement !== box) box.value = String(s);
    const st = $("status");
    st.textContent = error || status;
    st.className = error || status.startsWith("loading") || status.startsWith("waiting") ? "warn" : "";
  }

  function setPlaying(on) {
    playing = on;
    $("play").textContent = playing ? "❚❚ Pause" : "▶ Play";
    pump(true);
  }

  function seek(step) {
    pos = Math.max(0, Math.min(Math.max(0, total - 1), Math.round(step)));
    pump(true);
  }

  function setSpeed(n) {
    speed = Math.min(9, Math.max(1, n));
    $("speed").value = String(speed);
    pump(true);
  }

  function follow(name) {
    following = following === name ? null : name;
    if (following) fitted = false;
    if (following && window.AgaInspect) window.AgaInspect.open(following, Math.floor(pos));
    updatePanel(cache && cache.frame(Math.floor(pos)));
  }

  // ------------------------------------------------------------------ the loop
  function frame(now) {
    const began = performance.now();
    const dt = Math.min(0.25, lastTime ? (now - lastTime) / 1000 : 0);
    lastTime = now;
    stats.frames += 1;
    if (held.size) {
      const d = PAN_SPEED * dt;
      panBy((held.has("left") ? d : 0) - (held.has("right") ? d : 0), (held.has("up") ? d : 0) - (held.has("down") ? d : 0));
    }
    if (playing) advance(dt);
    else status = cache && !cache.has(Math.floor(pos)) && total > 0 ? "loading step " + Math.floor(pos) + "…" : "paused";
    if (total === 0) status = "waiting for the run's first step…";
    pump(false);
    if (info.live && now - lastPoll > (liveStream && liveStream.readyState === 1 ? 15000 : 3000)) {
      lastPoll = now;
      poll();
    }
    draw();
    const s = Math.floor(pos);
    const state = cache.frame(s);
    if (state && s !== shownStep) { // only a loaded step replaces what the panel shows
      shownStep = s;
      updatePanel(state);
      if (window.AgaInspect) window.AgaInspect.step(s);
    }
    updateHeader();
    if (now - lastUrl > 1000) {
      lastUrl = now;
      history.replaceState(null, "", "/demo/" + encodeURIComponent(cfg.sim) + "/" + s + "/" + speed + location.search);
    }
    if (playing && total > 0 && pos < total - 1) {
      stats.playingFrames += 1;
      if (status === "loading steps…") stats.stalledFrames += 1;
    }
    stats.slowestFrameMs = Math.max(stats.slowestFrameMs, performance.now() - began);
    requestAnimationFrame(frame);
  }

  function advance(dt) { // move pos forward through loaded steps only: never freeze, never jump
    if (total === 0) return;
    const end = total - 1;
    const target = Math.min(end, pos + dt * C.stepsPerSecond(speed));
    let s = Math.floor(pos);
    while (s < Math.floor(target) && cache.has(s + 1)) s++;
    if (s < Math.floor(target)) {
      pos = s;
      status = "loading steps…";
    } else {
      pos = cache.has(Math.floor(target) + 1) || target >= end ? target : Math.floor(target);
      status = "playing";
    }
    if (pos >= end) {
      pos = end;
      if (info.live) status = "waiting for the run (live)…";
      else { status = "end of the run"; setPlaying(false); }
    }
  }

  // ------------------------------------------------------------------ input
  function bindInput() {
    $("play").addEventListener("click", () => setPlaying(!playing));
    $("back").addEventListener("click", () => seek(Math.floor(pos) - 1));
    $("fwd").addEventListener("click", () => seek(Math.floor(pos) + 1));
    $("fit").addEventListener("click", () => { following = null; fit(); });
    const speedBox = $("speed");
    for (const n of C.SPEEDS) {
      const o = document.createElement("option");
      o.value = String(n);
      const rate = C.stepsPerSecond(n);
      o.textContent = n + " (" + (rate < 10 ? rate.toFixed(1) : Math.round(rate)) + " steps/s)";
      speedBox.appendChild(o);
    }
    speedBox.value = String(speed);
    speedBox.addEventListener("change", () => setSpeed(parseInt(speedBox.value, 10)));
    $("scrub").addEventListener("input", (e) => seek(parseInt(e.target.value, 10)));
    $("stepbox").addEventListener("change", (e) => seek(parseInt(e.target.value, 10) || 0));

    let drag = null;
    canvas.addEventListener("pointerdown", (e) => {
      drag = { x: e.clientX, y: e.clientY, moved: false };
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      drag.moved = true;
      canvas.classList.add("dragging");
      panBy(dx, dy);
      drag.x = e.clientX;
      drag.y = e.clientY;
    });
    canvas.addEventListener("pointerup", (e) => {
      canvas.classList.remove("dragging");
      if (drag && !drag.moved) clickAt(e);
      drag = null;
    });
    canvas.addEventListener("wheel", (e) => {
      e.preventDefault();
      const rect = canvas.getBoundingClientRect();
      zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - rect.left, e.clientY - rect.top);
    }, { passive: false });

    const dirs = { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "up", ArrowDown: "down",
      a: "left", d: "right", w: "up", s: "down", A: "left", D: "right", W: "up", S: "down" };
    window.addEventListener("keydown", (e) => {
      const tag = (e.target && e.target.tagName) || "";
      if (tag === "INPUT" || tag === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) return;
      if (dirs[e.key]) { held.add(dirs[e.key]); e.preventDefault(); return; }
      const w = canvas.clientWidth / 2, h = canvas.clientHeight / 2;
      switch (e.key) {
        case " ": setPlaying(!playing); break;
        case "+": case "=": zoomAt(1.25, w, h); break;
        case "-": case "_": zoomAt(0.8, w, h); break;
        case "f": case "F": following = null; fit(); break;
        case "[": setSpeed(speed - 1); break;
        case "]": setSpeed(speed + 1); break;
        case ",": seek(Math.floor(pos) - 1); break;
        case ".": seek(Math.floor(pos) + 1); break;
        case "Home": seek(0); break;
        case "End": seek(total - 1); break;
        case "Escape": following = null; if (window.AgaInspect) window.AgaInspect.close(); break;
        default: return;
      }
      e.preventDefault();
    });
    window.addEventListener("keyup", (e) => { if (dirs[e.key]) held.delete(dirs[e.key]); });
    window.addEventListener("blur", () => held.clear());
    window.addEventListener("resize", resize);
  }

  function clickAt(e) { // follow the resident under the pointer, or stop following
    const rect = canvas.getBoundingClientRect();
    const mx = (e.clientX - rect.left - view.x) / view.scale, my = (e.clientY - rect.top - view.y) / view.scale;
    const r = Math.max(tile * 0.55, 11 / view.scale);
    let best = null, bestD = Infinity;
    for (const name of names()) {
      const p = where(name);
      if (!p) continue;
      const d = Math.hypot((p.x + 0.5) * tile - mx, (p.y + 0.5) * tile - my);
      if (d < r * 1.3 && d < bestD) { best = name; bestD = d; }
    }
    if (best) follow(best);
    else if (following) follow(following);
  }

  // ------------------------------------------------------------------ start
  async function start() {
    bindInput();
    try {
      info = await getJSON(cfg.api);
    } catch (e) {
      $("clock").textContent = "";
      $("message").hidden = false;
      $("message").textContent = "Cannot load this simulation: " + e.message;
      return;
    }
    total = info.total;
    cache = new C.ChunkCache(info.chunk);
    $("sim").textContent = info.name + (info.live ? " · simulation" : " · replay");
    document.title = info.name + " · aga replay";
    buildPanel();
    if (info.town) {
      tile = info.town.tile;
      gridW = info.town.width;
      gridH = info.town.height;
      const img = new Image();
      const loaded = new Promise((resolve) => {
        img.onload = () => resolve(true);
        img.onerror = () => resolve(false);
      });
      img.src = cfg.api + "/town.png?v=" + info.town.etag;
      if (await loaded) picture = img;
      else showNote("The town picture did not load; drawing a grid.");
    } else {
      showNote((info.town_error || "No town") + " — residents are drawn on a plain grid.");
    }
    resize();
    if (window.AgaInspect) {
      window.AgaInspect.init({
        cfg: cfg, info: info, names: names,
        seek: (step) => { setPlaying(false); seek(step); },
        follow: (name) => { if (following !== name) follow(name); },
        get total() { return total; },
      });
    }
    const params = new URLSearchParams(location.search); // ?follow=<name>&zoom=<factor>&paused=1
    const zoom = parseFloat(params.get("zoom") || "");
    if (zoom > 0) zoomAt(zoom, canvas.clientWidth / 2, canvas.clientHeight / 2);
    if (params.get("follow") && names().includes(params.get("follow"))) follow(params.get("follow"));
    seek(cfg.step);
    setPlaying(!params.get("paused"));
    listenLive();
    requestAnimationFrame(frame);
  }

  function showNote(text) {
    const m = $("message");
    m.hidden = false;
    m.textContent = text;
    setTimeout(() => { m.hidden = true; }, 8000);
  }

  start();
})();
