import type { LatencyDistribution } from './schemas.js';

/** One task latency drawn from a distribution, given a uniform draw u in [0, 1). */
export function drawLatency(d: LatencyDistribution, u: number): number {
  switch (d.type) {
    case 'fixed':
      return d.ms;
    case 'uniform':
      return Math.round(d.minMs + u * (d.maxMs - d.minMs));
    case 'longTail': {
      // Pareto with scale minMs: P(X > x) = (minMs / x)^alpha.
      const x = d.minMs / Math.pow(1 - u, 1 / d.alpha);
      return Math.round(Math.min(d.maxMs, x));
    }
  }
}
