package dev.scalpel.engine.api;

/**
 * Mean next-token cross-entropy of a model on one text (a language, a domain, a file).
 *
 * @param name   what the text is, e.g. {@code de} or a file name
 * @param ce     mean cross-entropy in nats per predicted token
 * @param tokens how many tokens were predicted
 */
public record LanguageLoss(String name, double ce, long tokens) {}
