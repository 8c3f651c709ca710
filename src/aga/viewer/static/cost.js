// aga cost page: calls, tokens and dollars per task, model and game hour, drawn on canvases
// (no chart library). Prices are editable; the dollars are recomputed in the page. A running
// simulation pushes its new calls (server-sent events) and the page refreshes.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("config").textContent);
  const $ = (id) => document.getElementById(id);
  const C = window.AgaCore;
  const PALETTE = ["#3b5bdb", "#2b8a3e", "#e8590c", "#9c36b5", "#1098ad", "#c2255c", "#5c940d", "#868e96"];
  const stats = { loads: 0, charts: {}, live: 0 };
  window.agaCost = stats;
  let data = null;
  const prices = {}; // model -> {input, output}

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  const fmt = (n) => Number(n).toLocaleString("en-US");
  const usd = (n) => n === null || n === undefined ? "unknown" : "$" + (n < 0.01 && n > 0 ? n.toFixed(5) : n.toFixed(2));

  async function load() {
    const res = await fetch(cfg.api + "/cost", { cache: "no-store" });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || res.statusText);
    data = body;
    stats.loads += 1;
    for (const m of data.models) if (!(m.model in prices)) prices[m.model] = m.price;
    render();
  }

  function dollars() {
    let total = 0, known = true;
    for (const m of data.models) {
      const p = prices[m.model];
      if (!p) { known = false; m.shown = null; continue; }
      m.shown = (m.prompt_tokens * p.input + m.completion_tokens * p.output) / 1e6;
      total += m.shown;
    }
    return known ? total : null;
  }

  function render() {
    $("title").textContent = "Cost of " + cfg.sim;
    $("watch").href = "/demo/" + encodeURIComponent(cfg.sim) + "/0/3";
    $("status").textContent = data.steps + " steps from " + String(data.start).replace("T", " ") +
      (data.steps ? "" : " (no steps yet)") +
      (data.side_calls ? "; the totals and tables include " + data.side_calls +
        " calls of interviews and whispers (not in the per-hour charts)" : "");
    const t = data.totals;
    const total = dollars();
    const boxes = [
      ["calls", fmt(t.calls)], ["tokens in", fmt(t.prompt_tokens)], ["tokens out", fmt(t.completion_tokens)],
      ["model seconds", t.seconds.toFixed(1)], ["dollars", usd(total)],
      ["cache hits", data.cache_rate === null ? "—" : (100 * data.cache_rate).toFixed(1) + "%"],
      ["Lifestyle Policy reuse", data.policy.rate === null ? "—" :
        (100 * data.policy.rate).toFixed(1) + "% of " + data.policy.plan_actions + " actions"],
      ["failed / defaulted", t.failed + " / " + t.defaulted],
    ];
    const box = $("totals");
    box.textContent = "";
    for (const [k, v] of boxes) {
      const d = el("div", "total");
      d.appendChild(el("b", null, v));
      d.appendChild(el("span", "dim", k));
      box.appendChild(d);
    }
    modelTable();
    taskTable();
    drawCharts();
    evalSection();
  }

  // What the charts count: chosen per chart in its <select> (tokens in + out, in, out, or calls).
  const MEASURES = {
    tokens: (s) => s.prompt_tokens + s.completion_tokens,
    "tokens in": (s) => s.prompt_tokens,
    "tokens out": (s) => s.completion_tokens,
    calls: (s) => s.calls,
  };

  function drawCharts() {
    const t = $("measure-tasks").value, m = $("measure-models").value;
    chart($("chart-tasks"), "tasks", data.tasks.map((x) => x.task), "task:", MEASURES[t]);
    chart($("chart-models"), "models", data.models.map((x) => x.model), "model:", MEASURES[m]);
  }

  for (const id of ["measure-tasks", "measure-models"]) {
    document.getElementById(id).addEventListener("change", () => { if (data) drawCharts(); });
  }

  function modelTable() {
    const table = $("models");
    table.textContent = "";
    const head = el("tr");
    for (const h of ["model", "backend", "calls", "tokens in", "tokens out", "input $/M", "output $/M", "dollars"]) head.appendChild(el("th", null, h));
    table.appendChild(head);
    for (const m of data.models) {
      const tr = el("tr");
      for (const v of [m.model, m.backend, fmt(m.calls), fmt(m.prompt_tokens), fmt(m.completion_tokens)]) tr.appendChild(el("td", null, v));
      for (const side of ["input", "output"]) {
        const td = el("td");
        const inp = el("input", "price");
        inp.type = "number"; inp.min = "0"; inp.step = "0.01";
        inp.value = prices[m.model] ? String(prices[m.model][side]) : "";
        inp.placeholder = "unknown";
        inp.addEventListener("change", () => {
          const v = parseFloat(inp.value);
          const p = prices[m.model] || { input: 0, output: 0 };
          p[side] = isFinite(v) && v >= 0 ? v : 0;
          prices[m.model] = p;
          render();
        });
        td.appendChild(inp);
        tr.appendChild(td);
      }
      tr.appendChild(el("td", "dollars", usd(m.shown)));
      table.appendChild(tr);
    }
  }

  function taskTable() {
    const table = $("tasks");
    table.textContent = "";
    const head = el("tr");
    for (const h of ["task", "calls", "tokens in", "tokens out", "seconds", "cached", "failed", "defaulted"]) head.appendChild(el("th", null, h));
    table.appendChild(head);
    for (const t of data.tasks) {
      const tr = el("tr");
      for (const v of [t.task, fmt(t.calls), fmt(t.prompt_tokens), fmt(t.completion_tokens), t.seconds.toFixed(1),
        t.cached, t.failed, t.defaulted]) tr.appendChild(el("td", null, v));
      table.appendChild(tr);
    }
  }

  // A stacked bar chart: one bar per game hour, one colour per series (the top 7, then "other").
  function chart(canvas, key, names, prefix, value) {
    const g = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height, L = 70, R = 180, T = 16, B = 40;
    g.clearRect(0, 0, W, H);
    g.fillStyle = "#fff";
    g.fillRect(0, 0, W, H);
    const top = names.slice(0, 7);
    const hours = data.hours;
    const series = top.concat(names.length > 7 ? ["other"] : []);
    const stacks = hours.map((h) => {
      const vals = top.map((n) => (h.series[prefix + n] ? value(h.series[prefix + n]) : 0));
      if (names.length > 7) {
        let o = 0;
        for (const n of names.slice(7)) if (h.series[prefix + n]) o += value(h.series[prefix + n]);
        vals.push(o);
      }
      return vals;
    });
    const max = Math.max(1, ...stacks.map((v) => v.reduce((a, b) => a + b, 0)));
    g.strokeStyle = "#ccd";
    g.fillStyle = "#556";
    g.font = "18px system-ui, sans-serif";
    g.textAlign = "right";
    for (let i = 0; i <= 4; i++) {
      const y = T + (H - T - B) * (1 - i / 4);
      g.beginPath(); g.moveTo(L, y); g.lineTo(W - R, y); g.stroke();
      g.fillText(fmt(Math.round(max * i / 4)), L - 6, y + 6);
    }
    const n = Math.max(1, hours.length);
    const bw = (W - L - R) / n;
    let bars = 0;
    hours.forEach((h, i) => {
      let y = H - B;
      stacks[i].forEach((v, j) => {
        const bh = (H - T - B) * v / max;
        if (bh > 0) {
          g.fillStyle = PALETTE[j % PALETTE.length];
          g.fillRect(L + i * bw + bw * 0.1, y - bh, bw * 0.8, bh);
          bars += 1;
        }
        y -= bh;
      });
      if (n <= 24 || i % Math.ceil(n / 24) === 0) {
        g.fillStyle = "#556";
        g.textAlign = "center";
        g.fillText(h.label.slice(0, 5), L + i * bw + bw / 2, H - B + 22);
      }
    });
    g.textAlign = "left";
    series.forEach((s, j) => {
      g.fillStyle = PALETTE[j % PALETTE.length];
      g.fillRect(W - R + 12, T + j * 26, 16, 16);
      g.fillStyle = "#223";
      g.fillText(s.length > 16 ? s.slice(0, 15) + "…" : s, W - R + 34, T + j * 26 + 14);
    });
    if (!hours.length) {
      g.fillStyle = "#889";
      g.textAlign = "center";
      g.fillText("no model calls yet", W / 2, H / 2);
    }
    stats.charts[key] = { bars: bars, hours: hours.length, series: series.length,
      max: Math.max(0, ...stacks.map((v) => v.reduce((a, b) => a + b, 0))) };
  }

  function evalSection() {
    const ev = data.eval;
    if (!ev) { $("eval").hidden = true; return; }
    $("eval").hidden = false;
    const box = $("eval-charts");
    box.textContent = "";
    for (const name of ev.charts || []) {
      const fig = el("figure");
      const img = el("img", "evalchart");
      img.alt = name;
      img.src = cfg.api + "/eval/" + encodeURIComponent(name);
      fig.appendChild(img);
      fig.appendChild(el("figcaption", "dim", name));
      box.appendChild(fig);
    }
    $("eval-report").textContent = ev.error ? ev.error : JSON.stringify(ev.report, null, 2);
  }

  function listen() {
    if (!window.EventSource) return;
    const es = new EventSource(cfg.api + "/live");
    let calls = -1, timer = null;
    es.addEventListener("step", (e) => {
      const msg = JSON.parse(e.data);
      stats.live += 1;
      if (calls >= 0 && msg.calls !== calls && !timer) {
        timer = setTimeout(() => { timer = null; load().catch(() => {}); }, 1000);
      }
      calls = msg.calls;
    });
  }

  load().then(listen).catch((e) => {
    $("status").textContent = "Cannot load the cost of this simulation: " + e.message;
    $("status").className = "err";
  });
})();
