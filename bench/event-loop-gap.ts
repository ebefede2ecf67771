/**
 * The longest stretch the event loop went without running a 5 ms timer: how long a daemon doing
 * this work would leave its socket unanswered.
 */
export function watchEventLoopGap(): { stop(): number } {
  let last = performance.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 5);
  return {
    stop() {
      clearInterval(timer);
      return maxGapMs;
    },
  };
}
