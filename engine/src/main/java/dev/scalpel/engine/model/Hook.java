package dev.scalpel.engine.model;

import org.bytedeco.pytorch.Tensor;

/**
 * Sees, and may replace, an activation at a hook point during the forward pass. Returning the argument unchanged
 * captures; returning another tensor of the same shape patches.
 */
@FunctionalInterface
public interface Hook {
    Tensor apply(Tensor activation);
}
