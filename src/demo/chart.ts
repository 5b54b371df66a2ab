// A small live chart: events received per second and reconnects, over the last minute, so a
// fault pressed in the panel shows up as a dip and a red tick.

/** Seconds shown. */
export const CHART_SECONDS = 60;

export interface Chart {
  countEvents(n: number): void;
  countReconnect(): void;
  stop(): void;
}

export function createChart(canvas: HTMLCanvasElement): Chart {
  const events: number[] = new Array(CHART_SECONDS).fill(0);
  const reconnects: number[] = new Array(CHART_SECONDS).fill(0);
  let current = { events: 0, reconnects: 0 };
  const ctx = canvas.getContext("2d");

  const draw = () => {
    if (ctx === null) return;
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || canvas.width;
    const h = canvas.clientHeight || canvas.height;
    if (canvas.width !== Math.round(w * ratio)) canvas.width = Math.round(w * ratio);
    if (canvas.height !== Math.round(h * ratio)) canvas.height = Math.round(h * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const pad = { left: 44, right: 8, top: 10, bottom: 18 };
    const plotW = w - pad.left - pad.right;
    const plotH = h - pad.top - pad.bottom;
    const max = Math.max(10, ...events);
    const x = (i: number) => pad.left + (i / (CHART_SECONDS - 1)) * plotW;
    const y = (v: number) => pad.top + plotH - (v / max) * plotH;

    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#6b7385";
    ctx.strokeStyle = "#e2e5eb";
    ctx.lineWidth = 1;
    for (const v of [0, max / 2, max]) {
      ctx.beginPath();
      ctx.moveTo(pad.left, y(v));
      ctx.lineTo(w - pad.right, y(v));
      ctx.stroke();
      ctx.fillText(formatRate(v), 4, y(v) + 4);
    }
    ctx.fillText(`-${CHART_SECONDS}s`, pad.left, h - 4);
    ctx.fillText("now", w - pad.right - 22, h - 4);

    ctx.fillStyle = "#c92a2a";
    reconnects.forEach((n, i) => {
      if (n > 0) ctx.fillRect(x(i) - 1.5, pad.top, 3, plotH);
    });

    ctx.strokeStyle = "#2b7bd9";
    ctx.lineWidth = 2;
    ctx.beginPath();
    events.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
    ctx.stroke();
  };

  const tick = () => {
    events.shift();
    events.push(current.events);
    reconnects.shift();
    reconnects.push(current.reconnects);
    current = { events: 0, reconnects: 0 };
    draw();
  };
  const timer = setInterval(tick, 1000);
  draw();

  return {
    countEvents: (n) => void (current.events += n),
    countReconnect: () => void current.reconnects++,
    stop: () => clearInterval(timer),
  };
}

function formatRate(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return String(Math.round(v));
}
