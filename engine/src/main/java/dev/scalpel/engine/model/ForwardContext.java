package dev.scalpel.engine.model;

/**
 * What a forward pass runs with besides the token ids.
 *
 * @param gates        head gates, or null for all ones (the unmodified model; skips the multiply)
 * @param hooks        hooks by hook point (null becomes none)
 * @param cache        a KV cache to read and extend, or null to process the ids as a whole sequence from position 0
 * @param lastPositionOnly compute logits only for the last position ([B, 1, V]), as generation needs
 * @param overlay      how linear layers are applied: the stored weights (null), or with an edit's contribution
 */
public record ForwardContext(HeadGates gates, Hooks hooks, KvCache cache, boolean lastPositionOnly, LinearOverlay overlay) {

    public ForwardContext {
        hooks = hooks != null ? hooks : new Hooks();
        overlay = overlay != null ? overlay : LinearOverlay.NONE;
    }

    /** Without an overlay (the stored weights). */
    public ForwardContext(HeadGates gates, Hooks hooks, KvCache cache, boolean lastPositionOnly) {
        this(gates, hooks, cache, lastPositionOnly, LinearOverlay.NONE);
    }

    /** The unmodified model over a whole sequence. */
    public static ForwardContext plain() {
        return new ForwardContext(null, null, null, false);
    }

    public static ForwardContext withGates(HeadGates gates) {
        return new ForwardContext(gates, null, null, false);
    }

    public static ForwardContext withOverlay(LinearOverlay overlay) {
        return new ForwardContext(null, null, null, false, overlay);
    }

    public static ForwardContext withHooks(Hooks hooks) {
        return new ForwardContext(null, hooks, null, false);
    }

    /** The position of the first new token: the cache length, or 0 without a cache. */
    public int startPosition() {
        return cache != null ? cache.length() : 0;
    }
}
