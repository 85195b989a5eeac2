/* thresher serve: the pages (samples grid, embedding with lasso, sample, runs) over the JSON API. */
(function () {
  "use strict";
  const S = window.ThresherScatter;
  const view = document.getElementById("view");

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "on") for (const [event, f] of Object.entries(v)) node.addEventListener(event, f);
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }
  const svgNS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    const node = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }
  async function getJSON(url) {
    const answer = await fetch(url);
    const body = await answer.json();
    if (!answer.ok) throw new Error(body.error || answer.statusText);
    return body;
  }
  function fmt(v) { return v === null || v === undefined ? "—" : Number.isInteger(v) ? String(v) : Number(v).toPrecision(4); }
  const PALETTE = ["#1a73e8", "#e8710a", "#188038", "#9334e6", "#d01884", "#12b5cb", "#b06000", "#5f6368"];
  /* One colour per class over every page of a run: its place in the run's sorted class list
     (`classes` from the API), so "car" keeps its colour from frame to frame. */
  let CLASSES = [];
  function classColor(label) {
    const k = CLASSES.indexOf(label);
    return PALETTE[(k < 0 ? CLASSES.length : k) % PALETTE.length];
  }
  function legend(classes, imputed = true) {
    return classes.length ? el("p", { class: "keys legend" }, classes.map((c) => el("span", {}, el("span", { class: "swatch", style: `background:${classColor(c)}` }), c, " ")),
      imputed ? el("span", {}, el("span", { class: "swatch imputed-key" }), "imputed") : null) : null;
  }
  /* A select of the runs with report data; choosing one reloads the page for it. */
  function runPicker(runs, current) {
    const select = el("select", { name: "run", id: "run-picker" }, runs.map((r) => el("option", { value: r, selected: r === current }, r)));
    return el("label", {}, "run ", select);
  }

  /* The query naming a sample and the run it is shown for (a catalog shared by several
     datasources reads each sample from its run's datasource). */
  function sampleQuery(id, run) { return `id=${encodeURIComponent(id)}` + (run ? `&run=${encodeURIComponent(run)}` : ""); }

  /* An image of a sample with its boxes drawn (predicted solid, imputed dashed); `labels`
     writes each box's class and score on it; `run`: the run it is shown for. */
  function framed(item, size, labels, run) {
    const wrap = el("div", { class: "frame", style: `aspect-ratio:${item.width || 4}/${item.height || 3}` });
    const img = el("img", { src: `/api/image?${sampleQuery(item.id, run)}&size=${size}`, alt: item.file_name, loading: "lazy" });
    img.addEventListener("error", () => explainImage(img, wrap), { once: true });
    wrap.append(img);
    if (item.boxes && item.boxes.length && item.width) {
      const layer = svg("svg", { class: "boxes", viewBox: `0 0 ${item.width} ${item.height}`, preserveAspectRatio: "none" });
      const texts = [];
      const font = Math.max(10, Math.max(item.width, item.height) / 32);  // by the longer side, as the page fits it
      for (const b of item.boxes) {
        const [x0, y0, x1, y1] = b.xyxy;
        const color = b.imputed ? "#ff00ff" : classColor(b.label);
        const r = svg("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0, class: b.imputed ? "imputed" : "predicted",
          stroke: color, "stroke-opacity": 0.4 + 0.6 * b.score });
        const title = svg("title", {});
        title.textContent = `${b.imputed ? "imputed" : "predicted"} ${b.label} ${fmt(b.score)}`;
        r.append(title);
        layer.append(r);
        if (labels) {
          const text = svg("text", { class: "label", x: x0 + 2, y: b.imputed ? y1 - font / 4 : y0 + font, "font-size": font, fill: color });
          text.textContent = `${b.imputed ? "imputed " : ""}${b.label} ${Number(b.score).toFixed(2)}`;
          texts.push(text);
        }
      }
      layer.append(...texts);
      wrap.append(layer);
    }
    return wrap;
  }

  /* An image that did not load: the server's reason (its JSON error, e.g. a bucket's missing
     credentials) as the image's title and a visible note over it. */
  async function explainImage(img, wrap) {
    let reason = "the image could not be loaded";
    try {
      const answer = await fetch(img.src);
      if (!answer.ok) reason = (await answer.json()).error || `${answer.status} ${answer.statusText}`;
    } catch (error) {
      reason = String(error.message || error);
    }
    img.title = reason;
    wrap.append(el("p", { class: "image-error", title: reason }, reason));
  }

  function options(select, values, current, blank) {
    select.replaceChildren(...(blank !== null ? [el("option", { value: "" }, blank)] : []),
      ...values.map((v) => el("option", { value: v, selected: v === current }, v)));
  }

  // samples ------------------------------------------------------------------------------
  async function samplesPage() {
    const params = new URLSearchParams(location.search);
    const body = await getJSON("/api/samples?" + params.toString());
    CLASSES = body.classes;
    const form = el("form", { class: "filters", id: "filters" });
    const tag = el("select", { name: "tag" }), score = el("select", { name: "score" }), cls = el("select", { name: "class" });
    options(tag, body.tags.map((t) => t.name), params.get("tag"), "any tag");
    options(score, body.scores, params.get("score"), "no score");
    options(cls, body.classes, params.get("class"), "any class");
    form.append(runPicker(body.runs, body.run), el("label", {}, "tag", tag), el("label", {}, "score", score),
      el("label", {}, "min", el("input", { name: "min", type: "number", step: "any", value: params.get("min") || "" })),
      el("label", {}, "max", el("input", { name: "max", type: "number", step: "any", value: params.get("max") || "" })),
      el("label", {}, "class", cls), el("button", { type: "submit" }, "filter"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const next = new URLSearchParams();
      for (const [k, v] of new FormData(form)) if (v !== "") next.set(k, v);
      location.search = next.toString();
    });
    form.querySelector("#run-picker").addEventListener("change", () => form.requestSubmit());
    const grid = el("div", { class: "grid", id: "grid" });
    for (const item of body.items) {
      grid.append(el("a", { class: "card" + (item.selected ? " selected" : ""), href: `/sample?${sampleQuery(item.id, body.run)}` },
        el("figure", { class: "thumb" }, framed(item, 200, false, body.run), el("figcaption", {}, item.file_name, item.score !== null ? ` · ${fmt(item.score)}` : ""))));
    }
    const offset = body.offset || 0, shown = body.items.length, step = body.limit || 60;
    const page = (delta) => { const p = new URLSearchParams(location.search); p.set("offset", Math.max(0, offset + delta)); location.search = p.toString(); };
    const pager = el("div", { class: "pager" },
      el("button", { disabled: offset === 0, on: { click: () => page(-step) } }, "previous"),
      `${shown ? offset + 1 : 0}–${offset + shown} of ${body.total}` + (body.run ? ` (run ${body.run})` : " (no run with report data yet)"),
      el("button", { disabled: offset + shown >= body.total, on: { click: () => page(step) } }, "next"));
    view.replaceChildren(el("section", {}, el("h2", {}, "Samples"), form, legend(body.classes), pager, grid));
  }

  // embedding ----------------------------------------------------------------------------
  async function embeddingPage() {
    const params = new URLSearchParams(location.search);
    const body = await getJSON("/api/embedding?" + params.toString());
    const select = el("select", { id: "color-by" }, body.colors.map((c, k) => el("option", { value: String(k) }, c.name)));
    const canvas = el("canvas", { class: "scatter", id: "scatter", width: 900, height: 560 });
    const name = el("input", { id: "tag-name", placeholder: "tag name", value: "" });
    const save = el("button", { id: "save-tag", disabled: true }, "save as tag");
    const count = el("span", { id: "lasso-count" }, "draw a lasso around samples to tag them");
    const message = el("span", { id: "message", class: "message" });
    const tooltip = el("div", { id: "tooltip", hidden: true });
    const range = el("span", { id: "color-range", class: "keys" });
    let values = null; // the chosen column's values (NaN: none), for the tooltip
    view.replaceChildren(el("section", {}, el("h2", {}, "Embedding" + (body.run ? ` (run ${body.run})` : " (no run with report data yet)")),
      el("div", { class: "controls" }, body.run ? runPicker(body.runs, body.run) : null, el("label", {}, "colour by ", select), range, el("span", { class: "keys" }, el("span", { class: "ring" }), "selected"),
        el("span", { class: "keys" }, "click a point to open its sample")),
      el("div", { class: "lasso-panel" }, count, name, save, message),
      el("div", { class: "scatter-wrap" }, canvas, tooltip)));
    if (!body.run) return;
    document.getElementById("run-picker").addEventListener("change", (event) => {
      location.search = new URLSearchParams({ run: event.target.value }).toString();
    });
    const x = S.unit(S.decode(body.x, Uint16Array)), y = S.unit(S.decode(body.y, Uint16Array));
    let lassoed = [];
    const plot = new S(canvas, {
      x, y,
      onHover(i, event) {
        if (i < 0 || !event) { tooltip.hidden = true; return; }
        const c = body.colors[Number(select.value || 0)];
        const value = c && values ? c.min + values[i] * (c.max - c.min) : NaN;
        tooltip.replaceChildren(el("b", {}, body.names[i]), c ? el("div", {}, `${c.name}: ${Number.isNaN(value) ? "no value" : fmt(value)}`) : null,
          el("img", { src: `/api/image?${sampleQuery(body.ids[i], body.run)}&size=200` }));
        const rect = canvas.parentElement.getBoundingClientRect();
        tooltip.style.left = Math.min(event.clientX - rect.left + 14, rect.width - 220) + "px";
        tooltip.style.top = event.clientY - rect.top + 14 + "px";
        tooltip.hidden = false;
      },
      onLasso(rows, polygon) {
        if (polygon.length <= 2 && plot.hovered >= 0) { // a click on a point, not a lasso
          location.href = `/sample?${sampleQuery(body.ids[plot.hovered], body.run)}`;
          return;
        }
        lassoed = rows.map((i) => body.ids[i]);
        count.textContent = `${lassoed.length} samples in the lasso`;
        save.disabled = lassoed.length === 0;
        message.textContent = "";
      },
    });
    plot.setMarked(S.decode(body.selected, Int32Array), S.decode(body.preselected, Int32Array));
    const show = () => {
      const c = body.colors[Number(select.value || 0)];
      values = c ? S.unit(S.decode(c.data, Uint16Array)) : null;
      plot.setColors(values || new Float32Array(x.length).fill(NaN));
      range.replaceChildren(...(c ? [el("span", { class: "ramp" }), ` ${fmt(c.min)} … ${fmt(c.max)} `, el("span", { class: "nan" }), " no value"] : []));
      plot.draw();
    };
    select.addEventListener("change", show);
    save.addEventListener("click", async () => {
      const answer = await fetch("/api/tags", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name: name.value, ids: lassoed }) });
      const result = await answer.json();
      message.className = answer.ok ? "message" : "message error";
      message.textContent = answer.ok ? `tag ${result.name} saved with ${result.size} samples` : result.error;
    });
    show();
    document.body.dataset.scatterReady = "1";
  }

  // one sample ---------------------------------------------------------------------------
  async function samplePage() {
    const params = new URLSearchParams(location.search);
    const body = await getJSON("/api/sample?" + sampleQuery(params.get("id") || "", params.get("run")));
    CLASSES = body.classes;
    const s = body.sample;
    /* a crop's own box: its place in the frame in the table (`frame_xyxy`), drawn in the crop's pixels */
    const boxes = el("table", {}, el("tr", {}, ["kind", "class", "score", "x1", "y1", "x2", "y2"].map((h) => el("th", {}, h))),
      body.boxes.map((b) => el("tr", {}, el("td", {}, b.imputed ? "imputed" : "predicted"), el("td", {}, b.label), el("td", {}, fmt(b.score)),
        (b.frame_xyxy || b.xyxy).map((v) => el("td", {}, fmt(v))))));
    const runs = body.runs.map((r) => el("div", { class: "block" }, el("h3", {}, `run ${r.run}: ` + (r.selected ? `selected (#${r.pick})` : "not selected")),
      el("table", { class: "stats" }, Object.entries(r.scores).map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, fmt(v)))))));
    view.replaceChildren(el("section", {}, el("h2", {}, s.file_name),
      el("div", { class: "big" }, framed({ ...s, boxes: body.boxes }, 640, false, body.run)), legend(body.classes, s.kind !== "crop"),
      body.strip ? stripBlock(body.strip, body.run) : null,
      el("p", {}, `${s.kind} · ${s.video} · frame ${s.frame_index} · ${s.width}×${s.height}` + (s.parent_id ? ` · crop of ${s.parent_id}` : "")),
      el("p", {}, "tags: " + (body.tags.join(", ") || "none")),
      el("h3", {}, s.kind === "crop" ? "The object of this crop (pixels of its frame)" : "Predicted and imputed boxes"), boxes, el("h3", {}, "Scores"), runs));
  }

  /* Frames t-1, t, t+1 with the boxes of the task the assertions checked, as the report's strips. */
  function stripBlock(strip, run) {
    const flagged = strip.severity === null ? "no flicker recorded for this frame"
      : strip.severity > 0 ? `flagged by flicker, severity ${fmt(strip.severity)}` : "not flagged by flicker";
    const figures = strip.frames.map((f, k) => f
      ? el("figure", { class: "strip-frame" }, framed(f, 640, true, run), el("figcaption", {}, `${f.role} · `, el("a", { href: `/sample?${sampleQuery(f.id, run)}` }, f.file_name)))
      : el("figure", { class: "strip-frame missing" }, el("p", {}, `${["t−1", "t", "t+1"][k]}: no such frame`)));
    return el("div", { class: "strip", id: "strip" }, el("h3", {}, `Frames t−1, t, t+1 · task ${strip.task} · ${flagged}`),
      el("div", { class: "triple" }, figures));
  }

  // runs ---------------------------------------------------------------------------------
  async function runsPage() {
    const runs = await getJSON("/api/runs");
    const when = (t) => (t ? new Date(t * 1000).toLocaleString() : "—");
    const table = el("table", { id: "runs" }, el("tr", {}, ["run", "status", "started", "finished", "selected", "browse", "report"].map((h) => el("th", {}, h))),
      runs.map((r) => el("tr", {}, el("td", {}, r.id), el("td", {}, r.status), el("td", {}, when(r.created)), el("td", {}, when(r.finished)),
        el("td", {}, r.selected === null || r.selected === undefined ? "—" : `${r.selected} of ${fmt(r.samples)}`),
        el("td", {}, r.browsable ? [el("a", { href: `/?run=${encodeURIComponent(r.id)}` }, "samples"), " · ",
          el("a", { href: `/embedding?run=${encodeURIComponent(r.id)}` }, "embedding")] : "—"),
        el("td", {}, r.report ? el("a", { href: `/runs/${encodeURIComponent(r.id)}/report`, target: "_blank" }, "report.html") : "—"))));
    view.replaceChildren(el("section", {}, el("h2", {}, "Runs"), table));
  }

  const pages = { "/": samplesPage, "/embedding": embeddingPage, "/sample": samplePage, "/runs": runsPage };
  (pages[location.pathname] || samplesPage)().catch((error) => {
    view.replaceChildren(el("p", { class: "message error" }, String(error.message || error)));
  });
})();
