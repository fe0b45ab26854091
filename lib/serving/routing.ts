// Routing arms: a deterministic hash of a routing key (an entity id, else a request id) picks stable or
// canary, and independently whether a shadow copy is scored. Pure functions, no I/O.

export type Arm = 'stable' | 'canary' | 'shadow';

/** The part of a deployment routing reads. */
export interface RoutingState {
  stableVersion: number;
  canaryVersion: number | null;
  canaryPercent: number;
  shadowVersion: number | null;
  shadowFraction: number;
}

export interface Route {
  arm: 'stable' | 'canary';
  version: number;
  /** Set when this request is also scored on the shadow version (logged, never returned). */
  shadowVersion: number | null;
}

/** 32-bit FNV-1a over the UTF-16 code units of `s`, with a final avalanche so nearby keys spread. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A key's position in [0, 1), stable for a (model, purpose, key) triple. */
export function bucket(modelName: string, purpose: 'canary' | 'shadow', key: string): number {
  return fnv1a(`${modelName}\u0000${purpose}\u0000${key}`) / 2 ** 32;
}

/**
 * Picks the arm for a key. Canary takes keys whose bucket is below `canaryPercent`/100, so raising the
 * percentage only moves keys from stable to canary, never back: an entity that saw the canary keeps seeing it.
 */
export function route(modelName: string, state: RoutingState, key: string): Route {
  const canary = state.canaryVersion !== null && state.canaryPercent > 0 && bucket(modelName, 'canary', key) < state.canaryPercent / 100;
  const shadow = state.shadowVersion !== null && state.shadowFraction > 0 && bucket(modelName, 'shadow', key) < state.shadowFraction;
  return {
    arm: canary ? 'canary' : 'stable',
    version: canary ? state.canaryVersion! : state.stableVersion,
    shadowVersion: shadow ? state.shadowVersion : null,
  };
}
