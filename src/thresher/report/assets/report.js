/* thresher report: fills thumbnails from the inlined data and draws the embedding scatter. */
(function () {
  "use strict";
  const S = window.ThresherScatter;
  const data = JSON.parse(document.getElementById("report-data").textContent);

  for (const img of document.querySelectorAll("img[data-thumb]")) {
    img.src = data.thumbs[Number(img.dataset.thumb)];
  }
  for (const img of document.querySelectorAll("img[data-strip]")) {
    img.src = data.stripThumbs[Number(img.dataset.strip)];
  }

  const canvas = document.getElementById("scatter");
  if (!canvas) return;
  const x = S.unit(S.decode(data.x, Uint16Array));
  const y = S.unit(S.decode(data.y, Uint16Array));
  const thumbOf = S.decode(data.thumbOf, Int32Array);
  const sampleBox = data.sampleBox ? S.decode(data.sampleBox, Float32Array) : null;
  const tooltip = document.getElementById("tooltip");
  const select = document.getElementById("color-by");
  const range = document.getElementById("color-range");
  let current = null;

  function format(v) {
    if (!isFinite(v)) return "—";
    return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v * 1000) / 1000) : v.toPrecision(4);
  }

  function valueOf(i) {
    if (!current) return NaN;
    const t = current.values[i];
    return isNaN(t) ? NaN : current.min + t * (current.max - current.min);
  }

  function hover(i, event) {
    if (i < 0 || !event) { tooltip.hidden = true; return; }
    const t = thumbOf[i];
    tooltip.innerHTML = "<b></b><br><span class='value'></span>";
    tooltip.querySelector("b").textContent = data.names[i];
    tooltip.querySelector(".value").textContent = current ? current.name + ": " + format(valueOf(i)) : "";
    if (t >= 0) {
      const wrap = document.createElement("div");
      wrap.className = "frame";
      const img = document.createElement("img");
      img.src = data.thumbs[t];
      wrap.appendChild(img);
      if (sampleBox) {
        const [w, h] = data.thumbSize[t];
        const b = sampleBox.subarray(4 * i, 4 * i + 4);
        const box = document.createElement("div");
        box.className = "crop";
        box.style.cssText = `left:${(100 * b[0]) / w}%;top:${(100 * b[1]) / h}%;width:${(100 * (b[2] - b[0])) / w}%;height:${(100 * (b[3] - b[1])) / h}%`;
        wrap.appendChild(box);
      }
      tooltip.appendChild(wrap);
    }
    const rect = canvas.parentElement.getBoundingClientRect();
    tooltip.style.left = Math.min(event.clientX - rect.left + 14, rect.width - 220) + "px";
    tooltip.style.top = event.clientY - rect.top + 14 + "px";
    tooltip.hidden = false;
  }

  const plot = new S(canvas, { x, y, onHover: hover });
  plot.setMarked(S.decode(data.selected, Int32Array), S.decode(data.preselected, Int32Array));
  const columns = data.colors.map((c) => ({ name: c.name, min: c.min, max: c.max, data: c.data, values: null }));
  columns.forEach((c, k) => {
    const option = document.createElement("option");
    option.value = String(k);
    option.textContent = c.name;
    select.appendChild(option);
  });

  function show(k) {
    current = columns[k] || null;
    if (current && !current.values) current.values = S.unit(S.decode(current.data, Uint16Array));
    plot.setColors(current ? current.values : new Float32Array(x.length).fill(NaN));
    range.innerHTML = current
      ? `<span class='ramp'></span> ${format(current.min)} … ${format(current.max)} <span class='nan'></span> no value`
      : "";
    plot.draw();
  }

  select.addEventListener("change", () => show(Number(select.value)));
  window.addEventListener("resize", () => plot.draw());
  show(0);
  document.body.dataset.scatterReady = "1";
})();
