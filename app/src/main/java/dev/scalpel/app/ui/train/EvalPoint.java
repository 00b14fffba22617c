package dev.scalpel.app.ui.train;

/**
 * One live evaluation during training: the edited model's mean next-token cross-entropy on one text after a step.
 *
 * @param step     optimizer steps done when it was measured
 * @param language the text's name in the session, e.g. {@code de}
 * @param ce       nats per predicted token
 */
public record EvalPoint(long step, String language, double ce) {}
