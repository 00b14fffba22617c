package dev.scalpel.app.ui.components;

/**
 * One rank-1 component of a weight, scored on a target text (what an edit should remove) and a retain text (what it
 * should keep): the loss change when the component is removed from the weight, on each text.
 *
 * @param index         the component's number in the SVD, 0 = largest singular value
 * @param singularValue σ of the component
 * @param targetDelta   mean CE on the target text with the component removed minus without, nats
 * @param retainDelta   the same on the retain text
 * @param contrast      {@code targetDelta − retainDelta}: high means removing it hurts the target more than the rest
 * @param gradient      ∂(mean CE on the target)/∂(prefactor) at 1: the first-order effect of scaling the component
 * @param targetImportance mean causal importance on the target text (a decomposition with CI functions), else NaN
 * @param retainImportance the same on the retain text
 */
public record ComponentRow(int index, double singularValue, double targetDelta, double retainDelta, double contrast,
                           double gradient, double targetImportance, double retainImportance) {

    /** A row whose contrast is computed from the two deltas, without causal importances. */
    public static ComponentRow of(int index, double singularValue, double targetDelta, double retainDelta, double gradient) {
        return new ComponentRow(index, singularValue, targetDelta, retainDelta, targetDelta - retainDelta, gradient, Double.NaN,
                Double.NaN);
    }

    /** This row with the mean causal importances on the two texts. */
    public ComponentRow withImportance(double onTarget, double onRetain) {
        return new ComponentRow(index, singularValue, targetDelta, retainDelta, contrast, gradient, onTarget, onRetain);
    }
}
