/**
 * The Redlock allowance for clock drift over one lease: 1 % of it plus 2 ms (Redis's expiry
 * precision). A holder counts its lease as `ttl - drift` from when it sent the command: the
 * election's timing and the quorum's validity both take it off.
 */
export function clockDrift(leaseTtl: number): number {
  return Math.floor(leaseTtl * 0.01) + 2;
}
