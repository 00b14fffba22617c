package dev.scalpel.engine.train;

/**
 * Linear warm-up to the peak rate, then cosine decay to {@code minFraction} of it at {@code totalSteps}.
 * Steps are 1-based: step 1 is the first update.
 */
public record LearningRateSchedule(double peak, int warmupSteps, long totalSteps, double minFraction) {

    public double at(long step) {
        if (step <= warmupSteps) {
            return peak * step / Math.max(1, warmupSteps);
        }
        double progress = Math.min(1.0, (step - warmupSteps) / (double) Math.max(1, totalSteps - warmupSteps));
        double cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
        return peak * (minFraction + (1 - minFraction) * cosine);
    }
}
