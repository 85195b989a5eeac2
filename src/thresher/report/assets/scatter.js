/* thresher scatter: a canvas scatter plot with colour scale, hover and lasso. No dependencies.
 * Used by report.html (inlined) and by `thresher serve` (served from the package).
 *
 *   const plot = new ThresherScatter(canvas, {x, y, onHover(i, event), onLasso(indices)});
 *   plot.setColors(values, min, max); plot.setMarked(selectedRows, preselectedRows); plot.draw();
 *
 * x, y: Float32Array in [0, 1]; values: Float32Array (NaN = no value, drawn grey).
 */
(function (global) {
  "use strict";
  const VIRIDIS = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
    [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]];
  const PAD = 12, CELL = 10;

  function colorOf(t) {
    if (!(t >= 0)) return "rgb(190,190,190)";
    const f = Math.min(t, 1) * (VIRIDIS.length - 1), i = Math.min(Math.floor(f), VIRIDIS.length - 2), r = f - i;
    const a = VIRIDIS[i], b = VIRIDIS[i + 1];
    return "rgb(" + [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * r)).join(",") + ")";
  }

  function decode(b64, Type) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new Type(bytes.buffer, 0, bytes.byteLength / Type.BYTES_PER_ELEMENT);
  }

  /* Float32Array in [0, 1] from 16-bit codes (65535 = NaN). */
  function unit(codes) {
    const out = new Float32Array(codes.length);
    for (let i = 0; i < codes.length; i++) out[i] = codes[i] === 65535 ? NaN : codes[i] / 65534;
    return out;
  }

  function insidePolygon(px, py, poly) {
    let inside = false;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const xi = poly[i][0], yi = poly[i][1], xj = poly[j][0], yj = poly[j][1];
      if ((yi > py) !== (yj > py) && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  class ThresherScatter {
    constructor(canvas, options) {
      this.canvas = canvas;
      this.x = options.x;
      this.y = options.y;
      this.onHover = options.onHover || null;
      this.onLasso = options.onLasso || null;
      this.values = new Float32Array(this.x.length).fill(NaN);
      this.marked = new Uint8Array(this.x.length);
      this.hovered = -1;
      this.path = null; // the lasso being drawn, in screen pixels
      this.lasso = null; // the last lasso, in unit plot coordinates: stays drawn until the next one
      this.lassoed = new Uint8Array(this.x.length); // 1 = inside the last lasso, drawn highlighted
      this._listen();
    }

    setColors(values) { this.values = values; }

    /* rows: Int32Array of selected rows (ring) and preselected rows (diamond). */
    setMarked(selected, preselected) {
      this.marked = new Uint8Array(this.x.length);
      for (const i of preselected || []) this.marked[i] = 2;
      for (const i of selected || []) this.marked[i] = 1;
    }

    _size() {
      const ratio = window.devicePixelRatio || 1;
      const width = this.canvas.clientWidth || this.canvas.width, height = this.canvas.clientHeight || this.canvas.height;
      if (this.canvas.width !== Math.round(width * ratio)) {
        this.canvas.width = Math.round(width * ratio);
        this.canvas.height = Math.round(height * ratio);
      }
      return [width, height, ratio];
    }

    screen(i) {
      return this.toScreen(this.x[i], this.y[i]);
    }

    toScreen(ux, uy) {
      return [PAD + ux * (this.w - 2 * PAD), this.h - PAD - uy * (this.h - 2 * PAD)];
    }

    toUnit(sx, sy) {
      return [(sx - PAD) / (this.w - 2 * PAD), (this.h - PAD - sy) / (this.h - 2 * PAD)];
    }

    lassoedRows() {
      const rows = [];
      for (let i = 0; i < this.lassoed.length; i++) if (this.lassoed[i]) rows.push(i);
      return rows;
    }

    draw() {
      const [w, h, ratio] = this._size();
      this.w = w; this.h = h;
      const ctx = this.canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, w, h);
      this.grid = new Map();
      const order = [];
      for (let i = 0; i < this.x.length; i++) if (!this.marked[i]) order.push(i);
      for (let i = 0; i < this.x.length; i++) if (this.marked[i]) order.push(i);
      for (const i of order) {
        const [sx, sy] = this.screen(i);
        const key = Math.floor(sx / CELL) + "," + Math.floor(sy / CELL);
        if (!this.grid.has(key)) this.grid.set(key, []);
        this.grid.get(key).push(i);
        ctx.fillStyle = colorOf(this.values[i]);
        if (this.marked[i] === 2) {
          ctx.beginPath(); ctx.moveTo(sx, sy - 5); ctx.lineTo(sx + 5, sy); ctx.lineTo(sx, sy + 5); ctx.lineTo(sx - 5, sy); ctx.closePath();
          ctx.fill(); ctx.strokeStyle = "#188038"; ctx.lineWidth = 1.5; ctx.stroke();
        } else if (this.marked[i] === 1) {
          ctx.beginPath(); ctx.arc(sx, sy, 4, 0, 2 * Math.PI); ctx.fill();
          ctx.strokeStyle = "#d93025"; ctx.lineWidth = 2; ctx.stroke();
        } else {
          ctx.fillRect(sx - 1.5, sy - 1.5, 3, 3);
        }
      }
      for (let i = 0; i < this.x.length; i++) {
        if (!this.lassoed[i]) continue;
        const [sx, sy] = this.screen(i);
        ctx.beginPath(); ctx.arc(sx, sy, 3.5, 0, 2 * Math.PI);
        ctx.fillStyle = "#fbbc04"; ctx.fill(); ctx.strokeStyle = "#202124"; ctx.lineWidth = 1.2; ctx.stroke();
      }
      if (!this.path && this.lasso && this.lasso.length > 2) {
        const points = this.lasso.map((p) => this.toScreen(p[0], p[1]));
        ctx.beginPath(); ctx.moveTo(points[0][0], points[0][1]);
        for (const p of points) ctx.lineTo(p[0], p[1]);
        ctx.closePath(); ctx.strokeStyle = "#202124"; ctx.setLineDash([4, 3]); ctx.lineWidth = 1.2; ctx.stroke();
        ctx.fillStyle = "rgba(251,188,4,0.10)"; ctx.fill(); ctx.setLineDash([]);
      }
      if (this.hovered >= 0) {
        const [sx, sy] = this.screen(this.hovered);
        ctx.beginPath(); ctx.arc(sx, sy, 7, 0, 2 * Math.PI); ctx.strokeStyle = "#000"; ctx.lineWidth = 1.5; ctx.stroke();
      }
      if (this.path && this.path.length > 1) {
        ctx.beginPath(); ctx.moveTo(this.path[0][0], this.path[0][1]);
        for (const p of this.path) ctx.lineTo(p[0], p[1]);
        ctx.closePath(); ctx.strokeStyle = "#202124"; ctx.setLineDash([4, 3]); ctx.lineWidth = 1.2; ctx.stroke();
        ctx.fillStyle = "rgba(26,115,232,0.08)"; ctx.fill(); ctx.setLineDash([]);
      }
    }

    nearest(sx, sy, radius) {
      let best = -1, bestD = radius * radius;
      const cx = Math.floor(sx / CELL), cy = Math.floor(sy / CELL), reach = Math.ceil(radius / CELL);
      for (let gx = cx - reach; gx <= cx + reach; gx++) {
        for (let gy = cy - reach; gy <= cy + reach; gy++) {
          for (const i of this.grid.get(gx + "," + gy) || []) {
            const [px, py] = this.screen(i);
            const d = (px - sx) ** 2 + (py - sy) ** 2;
            if (d <= bestD) { bestD = d; best = i; }
          }
        }
      }
      return best;
    }

    inside(polygon) {
      const rows = [];
      for (let i = 0; i < this.x.length; i++) {
        const [sx, sy] = this.screen(i);
        if (insidePolygon(sx, sy, polygon)) rows.push(i);
      }
      return rows;
    }

    _point(event) {
      const rect = this.canvas.getBoundingClientRect();
      return [event.clientX - rect.left, event.clientY - rect.top];
    }

    _listen() {
      this.canvas.addEventListener("mousemove", (event) => {
        const [sx, sy] = this._point(event);
        if (this.path) { this.path.push([sx, sy]); this.draw(); return; }
        if (!this.grid) return;
        const i = this.nearest(sx, sy, 8);
        if (i !== this.hovered) { this.hovered = i; this.draw(); }
        if (this.onHover) this.onHover(i, event);
      });
      this.canvas.addEventListener("mouseleave", () => {
        if (this.path) return;
        this.hovered = -1; this.draw();
        if (this.onHover) this.onHover(-1, null);
      });
      if (!this.onLasso) return;
      this.canvas.addEventListener("mousedown", (event) => {
        event.preventDefault();
        this.path = [this._point(event)];
      });
      window.addEventListener("mouseup", () => {
        if (!this.path) return;
        const polygon = this.path;
        this.path = null;
        const rows = polygon.length > 2 ? this.inside(polygon) : [];
        this.lasso = polygon.length > 2 ? polygon.map((p) => this.toUnit(p[0], p[1])) : null;
        this.lassoed = new Uint8Array(this.x.length);
        for (const i of rows) this.lassoed[i] = 1;
        this.draw();
        this.onLasso(rows, polygon);
      });
    }
  }

  ThresherScatter.colorOf = colorOf;
  ThresherScatter.decode = decode;
  ThresherScatter.unit = unit;
  global.ThresherScatter = ThresherScatter;
})(window);
