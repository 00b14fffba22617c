package dev.scalpel.views.charts;

/**
 * One run of the removal study ({@code scalpel demo}): an edit method trained on a token budget of the target language,
 * and how much it raised the cross-entropy (nats per token, edited − base) on the target and on the retained language.
 *
 * @param method      edit method, e.g. {@code prefactor}, {@code lora-r4}, {@code head-lora-r4}
 * @param budget      target-language tokens the edit was trained on
 * @param targetDelta CE increase on the language being removed (higher = more removed)
 * @param retainDelta CE increase on the language being kept (higher = more collateral damage)
 */
public record TradeoffPoint(String method, int budget, double targetDelta, double retainDelta) {}
