// Shared tablets: after idle_timeout_s without a touch or a key, the worker is signed out (the
// open form is kept as a draft first), so the next person to pick the tablet up sees a PIN pad.

let timeoutMs = 0;
let lastActivity = Date.now();
let timer = 0;
let onIdle = null;

function touched() {
  lastActivity = Date.now();
}

for (const type of ['pointerdown', 'keydown', 'input', 'wheel', 'touchstart']) {
  window.addEventListener(type, touched, { capture: true, passive: true });
}

function check() {
  if (!onIdle) return;
  const left = lastActivity + timeoutMs - Date.now();
  if (left > 0) {
    timer = setTimeout(check, Math.min(left + 50, 30_000));
    return;
  }
  const handler = onIdle;
  stopIdle();
  handler();
}

export function startIdle(seconds, handler) {
  stopIdle();
  if (!(seconds > 0)) return;
  timeoutMs = seconds * 1000;
  onIdle = handler;
  touched();
  timer = setTimeout(check, Math.min(timeoutMs, 30_000));
}

export function stopIdle() {
  clearTimeout(timer);
  onIdle = null;
}
