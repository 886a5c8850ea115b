/**
 * The ALB security policies that offer TLS 1.3 and nothing below TLS 1.2:
 * `ELBSecurityPolicy-TLS13-1-2-…` and `ELBSecurityPolicy-TLS13-1-3-…`, their
 * FIPS and post-quantum variants among them. `…-TLS13-1-0-…` and
 * `…-TLS13-1-1-…` also accept TLS 1.0 and 1.1.
 */
export const MODERN_TLS_POLICY = /^ELBSecurityPolicy-TLS13-1-[23]-[A-Za-z0-9-]+$/;

/** What a configuration error says of a policy that is not {@link MODERN_TLS_POLICY}. */
export const MODERN_TLS_POLICY_REQUIREMENT = "must be a TLS 1.3 policy with nothing below TLS 1.2 (ELBSecurityPolicy-TLS13-1-2-… or ELBSecurityPolicy-TLS13-1-3-…)";
