package dev.scalpel.engine.api;

/**
 * One report from a running training job.
 *
 * @param step            optimizer steps done (1-based)
 * @param totalSteps      steps planned
 * @param tokens          tokens trained on so far
 * @param loss            training loss of this step (nats per token)
 * @param tokensPerSecond throughput over the steps so far
 * @param learningRate    the rate this step used
 */
public record TrainingProgress(long step, long totalSteps, long tokens, double loss, double tokensPerSecond,
                               double learningRate) {}
