// The viewer's page: HTML, CSS and script around the frame data, which replaces the line
// `@MAYA_DATA@`. The script only reads the embedded JSON; it fetches nothing.
#pragma once

namespace maya::io::detail {

inline constexpr const char* kViewerPageHead = R"MAYA(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@MAYA_TITLE@</title>
<style>
  html, body { margin: 0; height: 100%; background: #f4f5f7; color: #222;
    font: 14px system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
  body { display: flex; flex-direction: column; }
  header { padding: 8px 14px 0; font-weight: 600; font-size: 15px; }
  header span { font-weight: 400; color: #666; margin-left: 8px; font-size: 13px; }
  #stage { flex: 1; min-height: 120px; position: relative; }
  canvas { position: absolute; inset: 0; width: 100%; height: 100%; }
  #controls { display: flex; align-items: center; gap: 10px; padding: 8px 14px 12px; }
  button { font: inherit; min-width: 74px; padding: 4px 10px; border: 1px solid #b8bcc6;
    border-radius: 6px; background: #fff; cursor: pointer; }
  button:hover { background: #eef1f6; }
  #slider { flex: 1; }
  #clock { font-variant-numeric: tabular-nums; min-width: 150px; text-align: right; color: #444; }
  select { font: inherit; }
</style>
</head>
<body>
<header id="title"></header>
<div id="stage"><canvas id="view"></canvas></div>
<div id="controls">
  <button id="play" title="play / pause (space)">Pause</button>
  <input id="slider" type="range" min="0" value="0" step="1" aria-label="time">
  <span id="clock"></span>
  <select id="speed" aria-label="playback speed">
    <option value="0.25">0.25x</option><option value="0.5">0.5x</option>
    <option value="1" selected>1x</option><option value="2">2x</option><option value="4">4x</option>
  </select>
</div>
<script id="maya-data" type="application/json">
)MAYA";

inline constexpr const char* kViewerPageTail = R"MAYA(
</script>
<script>
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("maya-data").textContent);
  const times = data.times;
  const frameCount = times.length;
  const P = data.particles ? data.particles.count : 0;
  const pframes = data.particles ? data.particles.frames : [];
  const bframes = data.bodies ? data.bodies.frames : [];
  const bshapes = data.bodies ? data.bodies.shapes : [];
  const ghost = data.ghost || null;
  const canvas = document.getElementById("view");
  const ctx = canvas.getContext("2d");
  const slider = document.getElementById("slider");
  const playButton = document.getElementById("play");
  const clock = document.getElementById("clock");
  const speedSelect = document.getElementById("speed");
  const title = document.getElementById("title");
  title.textContent = data.title || "maya trajectory";
  if (ghost && ghost.label) {
    const note = document.createElement("span");
    note.textContent = "faded: " + ghost.label;
    title.appendChild(note);
  }
  slider.max = String(Math.max(0, frameCount - 1));

  // World bounds over every frame, so the camera never moves.
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  function grow(x, y, r) {
    if (!isFinite(x) || !isFinite(y)) return;
    xmin = Math.min(xmin, x - r); xmax = Math.max(xmax, x + r);
    ymin = Math.min(ymin, y - r); ymax = Math.max(ymax, y + r);
  }
  const radii = (data.particles && data.particles.radius) || [];
  function bodyReach(shape) {
    if (shape.shape === "circle") return shape.radius;
    let r = 0;
    for (const v of shape.vertices) r = Math.max(r, Math.hypot(v[0], v[1]));
    return r;
  }
  for (const f of pframes) for (let i = 0; i < P; ++i) grow(f[2 * i], f[2 * i + 1], radii[i] || 0);
  if (ghost) for (const f of ghost.frames) for (let i = 0; i < P; ++i) grow(f[2 * i], f[2 * i + 1], 0);
  for (const f of bframes) for (let b = 0; b < bshapes.length; ++b) grow(f[3 * b], f[3 * b + 1], bodyReach(bshapes[b]));
  for (const t of data.targets || []) grow(t[0], t[1], 0);
  for (const p of data.paths || []) for (const q of p.points) grow(q[0], q[1], 0);
  if (!isFinite(xmin)) { xmin = -1; xmax = 1; ymin = -1; ymax = 1; }
  if (data.ground) { ymin = Math.min(ymin, data.ground.height); }
  const span = Math.max(xmax - xmin, ymax - ymin, 1e-6);
  const pad = 0.08 * span;
  xmin -= pad; xmax += pad; ymax += pad;
  ymin -= data.ground ? 0.04 * span : pad;
  const autoRadius = 0.014 * span;

  let scale = 1, ox = 0, oy = 0, dpr = 1;
  function layout() {
    dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 640, h = canvas.clientHeight || 400;
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    scale = Math.min(w / (xmax - xmin), h / (ymax - ymin));
    ox = (w - scale * (xmax - xmin)) / 2 - scale * xmin;
    oy = (h + scale * (ymax - ymin)) / 2 + scale * ymin;
  }
  const sx = (x) => ox + scale * x;
  const sy = (y) => oy - scale * y;

  function niceStep(range) {
    const raw = range / 8, mag = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
  }
  function drawGrid(w, h) {
    const step = niceStep(Math.max(xmax - xmin, ymax - ymin));
    ctx.strokeStyle = "#e6e8ec"; ctx.lineWidth = 1; ctx.beginPath();
    for (let x = Math.ceil(xmin / step) * step; x <= xmax; x += step) { ctx.moveTo(sx(x), 0); ctx.lineTo(sx(x), h); }
    for (let y = Math.ceil(ymin / step) * step; y <= ymax; y += step) { ctx.moveTo(0, sy(y)); ctx.lineTo(w, sy(y)); }
    ctx.stroke();
  }
  function drawGround(w, h) {
    if (!data.ground) return;
    const y = sy(data.ground.height);
    ctx.fillStyle = "#e4ddd0"; ctx.fillRect(0, y, w, h - y);
    ctx.strokeStyle = "#b9ad98"; ctx.lineWidth = 1; ctx.beginPath();
    for (let x = -h; x < w; x += 12) { ctx.moveTo(x, h); ctx.lineTo(x + (h - y), y); }
    ctx.stroke();
    ctx.strokeStyle = "#6b6257"; ctx.lineWidth = 2.5; ctx.beginPath();
    ctx.moveTo(0, y); ctx.lineTo(w, y); ctx.stroke();
  }
  function springColor(stretch) {
    const s = Math.max(-1, Math.min(1, stretch * 4));
    if (s >= 0) return "rgb(" + Math.round(110 + 120 * s) + "," + Math.round(110 - 60 * s) + "," + Math.round(120 - 70 * s) + ")";
    return "rgb(" + Math.round(110 + 30 * s) + "," + Math.round(110 + 20 * s) + "," + Math.round(120 - 100 * s) + ")";
  }
  function drawParticles(frame, faded) {
    ctx.globalAlpha = faded ? 0.3 : 1;
    ctx.lineCap = "round";
    for (const s of data.springs || []) {
      const i = s[0], j = s[1];
      const dx = frame[2 * j] - frame[2 * i], dy = frame[2 * j + 1] - frame[2 * i + 1];
      const length = Math.hypot(dx, dy), rest = s[2];
      ctx.strokeStyle = faded ? "#777" : springColor(rest > 0 ? (length - rest) / rest : 0);
      ctx.lineWidth = 2.5;
      ctx.beginPath(); ctx.moveTo(sx(frame[2 * i]), sy(frame[2 * i + 1]));
      ctx.lineTo(sx(frame[2 * j]), sy(frame[2 * j + 1])); ctx.stroke();
    }
    for (let i = 0; i < P; ++i) {
      const r = Math.max(2.5, scale * (radii[i] || autoRadius));
      ctx.beginPath(); ctx.arc(sx(frame[2 * i]), sy(frame[2 * i + 1]), r, 0, 2 * Math.PI);
      ctx.fillStyle = faded ? "#9aa3ad" : "#4e79a7"; ctx.fill();
      ctx.strokeStyle = faded ? "#6d747c" : "#2b4c70"; ctx.lineWidth = 1.5; ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }
  function drawBodies(frame) {
    for (let b = 0; b < bshapes.length; ++b) {
      const x = frame[3 * b], y = frame[3 * b + 1], a = frame[3 * b + 2], shape = bshapes[b];
      ctx.save(); ctx.translate(sx(x), sy(y)); ctx.rotate(-a);
      ctx.beginPath();
      if (shape.shape === "circle") {
        ctx.arc(0, 0, scale * shape.radius, 0, 2 * Math.PI);
      } else {
        shape.vertices.forEach((v, k) => k === 0 ? ctx.moveTo(scale * v[0], -scale * v[1]) : ctx.lineTo(scale * v[0], -scale * v[1]));
        ctx.closePath();
      }
      ctx.fillStyle = "#f28e2b"; ctx.fill();
      ctx.strokeStyle = "#9a5514"; ctx.lineWidth = 1.8; ctx.stroke();
      // A spoke from the centre shows the rotation.
      ctx.beginPath(); ctx.moveTo(0, 0); ctx.lineTo(scale * bodyReach(shape) * 0.8, 0); ctx.stroke();
      ctx.restore();
    }
  }
  function drawTrails(index) {
    ctx.strokeStyle = "rgba(78,121,167,0.28)"; ctx.lineWidth = 1.2;
    for (let i = 0; i < P; ++i) {
      ctx.beginPath();
      for (let k = 0; k <= index; ++k) {
        const f = pframes[k];
        k === 0 ? ctx.moveTo(sx(f[2 * i]), sy(f[2 * i + 1])) : ctx.lineTo(sx(f[2 * i]), sy(f[2 * i + 1]));
      }
      ctx.stroke();
    }
  }
  function drawStatic() {
    for (const p of data.paths || []) {
      ctx.strokeStyle = p.color || "#555"; ctx.lineWidth = 1.5; ctx.setLineDash([6, 4]);
      ctx.beginPath();
      p.points.forEach((q, k) => k === 0 ? ctx.moveTo(sx(q[0]), sy(q[1])) : ctx.lineTo(sx(q[0]), sy(q[1])));
      ctx.stroke(); ctx.setLineDash([]);
    }
    for (const t of data.targets || []) {
      const x = sx(t[0]), y = sy(t[1]), r = 8;
      ctx.strokeStyle = "#d62728"; ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.beginPath();
      ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x - r, y + r); ctx.lineTo(x + r, y - r);
      ctx.stroke();
      ctx.beginPath(); ctx.arc(x, y, 2 * r, 0, 2 * Math.PI); ctx.lineWidth = 1.5; ctx.stroke();
    }
  }

  let index = 0;
  function draw() {
    const w = canvas.width / dpr, h = canvas.height / dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#fbfbfd"; ctx.fillRect(0, 0, w, h);
    drawGrid(w, h); drawGround(w, h); drawStatic();
    if (frameCount > 0) {
      if (ghost && ghost.frames[index]) drawParticles(ghost.frames[index], true);
      if (P > 0) { drawTrails(index); drawParticles(pframes[index], false); }
      if (bframes.length > 0) drawBodies(bframes[index]);
    }
    slider.value = String(index);
    const end = frameCount > 0 ? times[frameCount - 1] : 0;
    clock.textContent = "t = " + (frameCount > 0 ? times[index] : 0).toFixed(3) + " / " + end.toFixed(3) + " s";
    document.body.dataset.frame = String(index);
  }

  // Playback follows the wall clock: frame = the last one whose time has passed.
  let playing = false, playStart = 0, playFrom = 0, lastStamp = null;
  function frameAt(t) {
    let lo = 0, hi = frameCount - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (times[mid] <= t) lo = mid; else hi = mid - 1; }
    return lo;
  }
  function tick(stamp) {
    if (!playing) return;
    if (lastStamp === null) { lastStamp = stamp; playStart = stamp; playFrom = times[index]; }
    const t = playFrom + (stamp - playStart) / 1000 * Number(speedSelect.value);
    if (t > times[frameCount - 1]) { playStart = stamp; playFrom = times[0]; index = 0; }
    else index = frameAt(t);
    draw();
    requestAnimationFrame(tick);
  }
  function setPlaying(on) {
    playing = on && frameCount > 1;
    playButton.textContent = playing ? "Pause" : "Play";
    lastStamp = null;
    if (playing) requestAnimationFrame(tick);
  }
  playButton.addEventListener("click", () => setPlaying(!playing));
  slider.addEventListener("input", () => { index = Number(slider.value); lastStamp = null; draw(); });
  speedSelect.addEventListener("change", () => { lastStamp = null; });
  window.addEventListener("keydown", (e) => {
    if (e.key === " ") { setPlaying(!playing); e.preventDefault(); }
    else if (e.key === "ArrowRight") { setPlaying(false); index = Math.min(frameCount - 1, index + 1); draw(); }
    else if (e.key === "ArrowLeft") { setPlaying(false); index = Math.max(0, index - 1); draw(); }
  });
  window.addEventListener("resize", () => { layout(); draw(); });

  // "#t=1.5" or "#frame=30" shows that moment, paused; no fragment plays from the start.
  function applyHash() {
    const hash = window.location.hash.replace(/^#/, "");
    const params = new URLSearchParams(hash);
    if (params.has("t") && frameCount > 0) { index = frameAt(Number(params.get("t")) || 0); setPlaying(false); }
    else if (params.has("frame") && frameCount > 0) { index = Math.max(0, Math.min(frameCount - 1, Number(params.get("frame")) || 0)); setPlaying(false); }
    else setPlaying(true);
    draw();
  }
  window.addEventListener("hashchange", applyHash);
  layout();
  applyHash();
})();
</script>
</body>
</html>
)MAYA";

}  // namespace maya::io::detail
