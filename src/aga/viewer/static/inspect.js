// aga replay page: the resident inspector (follows the scrubber), the event timeline, the
// transcripts, the model calls with their prompt and answer, and the interview chat.
// Every text from the store is put in the page with textContent, never as HTML.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  let page = null; // {cfg, info, names, seek, follow, total}
  let who = null; // the inspected resident
  let wantStep = -1, loadedStep = -1, loading = false, lastFetch = 0, timer = null;
  let events = [];
  const state = { loads: 0, name: null, step: -1, data: null, events: 0, error: "" };
  window.agaInspect = state; // read-only figures for the tests

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  async function getJSON(url, options) {
    const res = await fetch(url, Object.assign({ cache: "no-store" }, options || {}));
    let body = null;
    try { body = await res.json(); } catch (e) { body = { error: res.status + " " + res.statusText }; }
    if (!res.ok) throw new Error(body.error || res.statusText);
    return body;
  }

  // ------------------------------------------------------------------ inspector
  function open(name, step) {
    if (state.name !== name) { // until its data arrives, say whose it is
      $("insp-name").textContent = name;
      $("insp-time").textContent = "step " + step;
      $("insp-body").textContent = "loading…";
    }
    who = name;
    $("inspector").hidden = false;
    $("inspector").scrollTop = 0;
    wantStep = step;
    loadedStep = -1;
    schedule(0);
  }

  function close() {
    who = null;
    $("inspector").hidden = true;
  }

  function step(s) {
    wantStep = s;
    if (who) schedule(350);
  }

  function schedule(delay) {
    if (timer) return;
    const wait = Math.max(delay, 300 - (performance.now() - lastFetch));
    timer = setTimeout(() => { timer = null; load(); }, Math.max(0, wait));
  }

  async function load() {
    if (!who || loading || wantStep < 0) return;
    if (loadedStep === wantStep && state.name === who) return;
    loading = true;
    lastFetch = performance.now();
    const name = who, s = wantStep;
    try {
      const data = await getJSON(page.cfg.api + "/residents/" + encodeURIComponent(name) + "?step=" + s);
      if (who === name) {
        render(data);
        loadedStep = s;
        state.loads += 1;
        state.name = name;
        state.step = s;
        state.data = data;
        state.error = "";
      }
    } catch (e) {
      state.error = e.message;
      $("insp-body").textContent = "";
      $("insp-body").appendChild(el("p", "err", "Cannot load " + name + " at step " + s + ": " + e.message));
    } finally {
      loading = false;
      if (who && (wantStep !== loadedStep || state.name !== who)) schedule(300);
    }
  }

  function section(body, title) {
    const s = el("section", "insp-sec");
    s.appendChild(el("h3", null, title));
    body.appendChild(s);
    return s;
  }

  function kv(parent, key, value) {
    const row = el("div", "kv");
    row.appendChild(el("span", "k", key));
    row.appendChild(el("span", "v", value === null || value === undefined || value === "" ? "—" : value));
    parent.appendChild(row);
    return row;
  }

  function render(d) {
    $("insp-name").textContent = d.name;
    $("insp-time").textContent = "step " + d.step + " · " + d.time;
    const body = $("insp-body");
    body.textContent = "";
    const n = d.now;
    const now = section(body, "Now");
    kv(now, "doing", n.action).classList.add("insp-action");
    kv(now, "at", window.AgaCore.shortPlace(n.place));
    kv(now, "tile", n.tile ? "(" + n.tile[0] + ", " + n.tile[1] + ")" : null).classList.add("insp-tile");
    kv(now, "heading", n.target ? "(" + n.target[0] + ", " + n.target[1] + ")" : null);
    kv(now, "with", n.chat_with);
    if (d.interview) {
      const b = el("button", "insp-interview", "Interview " + d.name + " at this step");
      b.type = "button";
      b.addEventListener("click", () => interview(d.name, d.step));
      now.appendChild(b);
    }

    const plan = section(body, "Plan for the day");
    const item = d.plan.current_item;
    kv(plan, "item", item ? (item.label || item.task) + (item.parent && item.parent !== item.task ? " (part of: " + item.parent + ")" : "")
      + " · since " + String(item.since).slice(11, 16) + (item.reused ? " · from the Lifestyle Policy" : "") : null)
      .classList.add("insp-item");
    if (d.plan.daily_plan) plan.appendChild(el("p", "dim", d.plan.daily_plan));
    const list = el("ol", "insp-schedule");
    d.plan.schedule.forEach((r, i) => {
      const li = el("li", i === d.plan.current_index ? "current" : "", r.from + "–" + r.to + "  " + r.description);
      list.appendChild(li);
    });
    plan.appendChild(list);
    if (d.plan.schedule_from !== "state") plan.appendChild(el("p", "dim", "(schedule rebuilt from the actions started that day)"));

    const mem = section(body, "Newest memories");
    const ml = el("ul", "insp-memories");
    for (const m of d.memories) {
      const li = el("li");
      li.appendChild(el("span", "tag " + m.type, m.type));
      li.appendChild(el("span", "imp", m.importance === null ? "?" : m.importance));
      li.appendChild(el("span", "when", String(m.created).slice(11, 16)));
      li.appendChild(document.createTextNode(" " + m.description));
      ml.appendChild(li);
    }
    if (!d.memories.length) ml.appendChild(el("li", "dim", "none yet"));
    mem.appendChild(ml);

    const ref = section(body, "Reflections");
    if (!d.reflections.length) ref.appendChild(el("p", "dim", "none yet"));
    for (const r of d.reflections) {
      const det = el("details", "insp-reflection");
      det.appendChild(el("summary", null, String(r.created).slice(11, 16) + " " + r.description));
      const ev = el("ul");
      for (const e of r.evidence) ev.appendChild(el("li", null, "#" + e.id + " " + e.description));
      det.appendChild(ev);
      ref.appendChild(det);
    }

    const ties = section(body, "Ties");
    const names = Object.keys(d.ties.ties);
    if (!names.length) ties.appendChild(el("p", "dim", "none (Social Memory off, or no one met yet)"));
    for (const other of names) {
      const t = d.ties.ties[other];
      const p = el("p");
      p.appendChild(el("b", null, other + ": "));
      p.appendChild(document.createTextNode([t.relationship, t.feeling, t.summary].filter(Boolean).join(" · ")));
      ties.appendChild(p);
    }
    if (names.length) ties.appendChild(el("p", "dim", "as of step " + d.ties.as_of_step + " (the latest stored)"));

    const calls = section(body, "Model calls around this step");
    const table = el("table", "insp-calls");
    const head = el("tr");
    for (const h of ["step", "task", "in", "out", "s", ""]) head.appendChild(el("th", null, h));
    table.appendChild(head);
    for (const c of d.calls) {
      const tr = el("tr", c.ok ? "" : "bad");
      tr.appendChild(el("td", null, c.step));
      tr.appendChild(el("td", null, c.task));
      tr.appendChild(el("td", null, c.prompt_tokens));
      tr.appendChild(el("td", null, c.completion_tokens));
      tr.appendChild(el("td", null, Number(c.seconds).toFixed(2)));
      const flags = [c.cached ? "cached" : "", c.defaulted ? "defaulted" : "", c.ok ? "" : "failed"].filter(Boolean);
      const td = el("td");
      const b = el("button", "insp-open", "open" + (flags.length ? " (" + flags.join(", ") + ")" : ""));
      b.type = "button";
      b.addEventListener("click", () => openCall(c.seq));
      td.appendChild(b);
      tr.appendChild(td);
      table.appendChild(tr);
    }
    calls.appendChild(d.calls.length ? table : el("p", "dim", "no calls for this resident"));

    const persona = section(body, "Persona");
    for (const k of ["age", "innate", "learned", "currently", "lifestyle", "living_area"]) kv(persona, k, d.persona[k]);
  }

  // ------------------------------------------------------------------ dialogs
  function dialog(title) {
    const box = $("dialog");
    box.hidden = false;
    $("dialog-title").textContent = title;
    const body = $("dialog-body");
    body.textContent = "";
    return body;
  }

  async function openCall(seq) {
    const body = dialog("Model call #" + seq);
    try {
      const c = await getJSON(page.cfg.api + "/calls/" + seq);
      body.appendChild(el("p", "dim", c.task + " · " + c.model + " · step " + c.step + " · " + c.prompt_tokens + " in, " +
        c.completion_tokens + " out · " + Number(c.seconds).toFixed(2) + " s" + (c.defaulted ? " · defaulted" : "") +
        (c.error ? " · " + c.error : "")));
      body.appendChild(el("h4", null, "Prompt"));
      body.appendChild(el("pre", "call-prompt", c.prompt === null ? "(not recorded for this call)" : c.prompt));
      body.appendChild(el("h4", null, "Answer"));
      body.appendChild(el("pre", "call-answer", c.answer === null ? "(no answer recorded)" : c.answer));
    } catch (e) {
      body.appendChild(el("p", "err", e.message));
    }
  }

  function openChat(ev) {
    const body = dialog("Chat: " + ev.who.join(" and ") + " · " + String(ev.time).slice(11, 16));
    body.appendChild(el("p", "dim", ev.text));
    for (const line of ev.lines || []) {
      const p = el("p", "chat-line");
      p.appendChild(el("b", null, line[0] + ": "));
      p.appendChild(document.createTextNode(line[1]));
      body.appendChild(p);
    }
  }

  function interview(name, s) {
    const body = dialog("Interview " + name + " (as at step " + s + ")");
    const log = el("div", "interview-log");
    const form = el("form", "interview-form");
    const input = el("input");
    input.type = "text";
    input.placeholder = "Ask " + name + " something…";
    const send = el("button", null, "Ask");
    send.type = "submit";
    form.appendChild(input);
    form.appendChild(send);
    body.appendChild(log);
    body.appendChild(form);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const q = input.value.trim();
      if (!q) return;
      input.value = "";
      const p = el("p", "q");
      p.appendChild(el("b", null, "You: "));
      p.appendChild(document.createTextNode(q));
      log.appendChild(p);
      const a = el("p", "a", "…");
      log.appendChild(a);
      try {
        const r = await getJSON(page.cfg.api + "/residents/" + encodeURIComponent(name) + "/interview", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ step: s, question: q }),
        });
        a.textContent = "";
        a.appendChild(el("b", null, name + ": "));
        a.appendChild(document.createTextNode(r.answer || "(" + (r.error || "no answer") + ")"));
      } catch (err) {
        a.textContent = "error: " + err.message;
        a.className = "a err";
      }
    });
    input.focus();
  }

  // ------------------------------------------------------------------ timeline
  async function loadEvents() {
    try {
      const t = await getJSON(page.cfg.api + "/events");
      events = t.events;
      state.events = events.length;
      drawTimeline(t.total);
    } catch (e) {
      $("timeline").title = "events unavailable: " + e.message;
    }
  }

  function drawTimeline(total) {
    const bar = $("timeline");
    bar.textContent = "";
    const span = Math.max(1, Math.max(total, page.total) - 1);
    for (const ev of events) {
      const b = el("button", "ev ev-" + ev.kind.replace(/\s+/g, "-"));
      b.type = "button";
      b.style.left = "calc((100% - 6px) * " + Math.min(1, ev.step / span) + " + 3px)"; // marks at both ends stay whole
      b.title = String(ev.time || "").slice(11, 16) + " " + ev.kind + " · " + ev.who.join(", ") + ": " + ev.text;
      b.dataset.step = String(ev.step);
      b.addEventListener("click", () => {
        page.seek(ev.step);
        if (ev.who.length) page.follow(ev.who[0]);
        if (ev.kind === "chat") openChat(ev);
        else if (ev.kind === "failure" && ev.seq) openCall(ev.seq);
      });
      bar.appendChild(b);
    }
  }

  let eventsTimer = null;
  function live(msg) { // a running simulation moved on: refresh the timeline and the inspector
    if (!eventsTimer) eventsTimer = setTimeout(() => { eventsTimer = null; loadEvents(); }, 3000);
    if (who && msg && typeof msg.total === "number") schedule(500);
  }

  function init(p) {
    page = p;
    $("insp-close").addEventListener("click", close);
    $("dialog-close").addEventListener("click", () => { $("dialog").hidden = true; });
    $("cost-link").href = "/cost/" + encodeURIComponent(p.cfg.sim);
    if (!p.info.live) { // a replay file has movements only
      $("timeline").hidden = true;
      $("cost-link").hidden = true;
      window.AgaInspect.open = () => {};
      return;
    }
    loadEvents();
  }

  window.AgaInspect = { init, open, close, step, live };
})();
