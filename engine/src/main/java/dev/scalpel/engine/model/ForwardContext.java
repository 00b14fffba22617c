package dev.scalpel.engine.model;

/**
 * What a forward pass runs with besides the token ids.
 *
 * @param gates        head gates, or null for all ones (the unmodified model; skips the multiply)
 * @param hooks        hooks by hook point (null becomes none)
 * @param cache        a KV cache to read and extend, or null to process the ids as a whole sequence from position 0
 * @param lastPositionOnly compute logits only for the last position ([B, 1, V]), as generation needs
 */
public record ForwardContext(HeadGates gates, Hooks hooks, KvCache cache, boolean lastPositionOnly) {

    public ForwardContext {
        hooks = hooks != null ? hooks : new Hooks();
    }

    /** The unmodified model over a whole sequence. */
    public static ForwardContext plain() {
        return new ForwardContext(null, null, null, false);
    }

    public static ForwardContext withGates(HeadGates gates) {
        return new ForwardContext(gates, null, null, false);
    }

    public static ForwardContext withHooks(Hooks hooks) {
        return new ForwardContext(null, hooks, null, false);
    }

    /** The position of the first new token: the cache length, or 0 without a cache. */
    public int startPosition() {
        return cache != null ? cache.length() : 0;
    }
}
