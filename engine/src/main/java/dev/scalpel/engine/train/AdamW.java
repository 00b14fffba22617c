package dev.scalpel.engine.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * AdamW (Loshchilov & Hutter) with decoupled weight decay, written out so that its state is plain tensors Scalpel can
 * save, restore and measure. Per parameter p with gradient g at step t:
 * m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p·(1 − lr·λ) − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε).
 * Weight decay λ applies only to parameters marked as decayed (matrices, not norms).
 */
public final class AdamW implements Optimizer {
    /** Hyper-parameters; {@code lr} is the peak rate, scaled each step by the schedule. */
    public record Options(double lr, double beta1, double beta2, double eps, double weightDecay) {
        public static Options defaults(double lr) {
            return new Options(lr, 0.9, 0.95, 1e-8, 0.1);
        }
    }

    private final List<Trainable> trainables;
    private final List<Parameter> params;
    private final Options options;
    private long step;

    /** A trainable with its moments; {@code elementLrScale} as in {@link Trainable}. */
    public record Parameter(String name, Tensor value, Tensor m, Tensor v, double lrScale, boolean decay, Tensor elementLrScale) {}

    /** @param trainable name → leaf tensor with requires_grad; decay applies to tensors of rank ≥ 2 */
    public AdamW(Map<String, Tensor> trainable, Options options) {
        this(trainable.entrySet().stream().map(e -> Trainable.of(e.getKey(), e.getValue())).toList(), options);
    }

    public AdamW(List<Trainable> trainables, Options options) {
        this.options = options;
        this.trainables = List.copyOf(trainables);
        this.params = trainables.stream().map(t -> {
            Tensor m = torch.zeros_like(t.value());
            Tensor v = torch.zeros_like(t.value());
            m.retainReference();
            v.retainReference();
            return new Parameter(t.name(), t.value(), m, v, t.lrScale(), t.decay(), t.elementLrScale());
        }).toList();
    }

    @Override
    public List<Trainable> trainables() {
        return trainables;
    }

    /** The parameters with their moments (for checkpoints). */
    public List<Parameter> parameters() {
        return params;
    }

    @Override
    public long step() {
        return step;
    }

    /** {@code m.NAME} and {@code v.NAME} for every trainable. */
    @Override
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Parameter p : params) {
            out.put("m." + p.name(), p.m());
            out.put("v." + p.name(), p.v());
        }
        return out;
    }

    @Override
    public void resumeAt(long step) {
        this.step = step;
    }

    @Override
    public void step(double baseLr) {
        step++;
        double b1 = options.beta1(), b2 = options.beta2();
        double bias1 = 1 - Math.pow(b1, step);
        double bias2 = 1 - Math.pow(b2, step);
        try (NoGradGuard g = new NoGradGuard()) {
            for (Parameter p : params) {
                Tensor grad = p.value().grad();
                if (grad == null || grad.isNull() || !grad.defined() || p.lrScale() == 0) {
                    continue;
                }
                double lr = baseLr * p.lrScale();
                p.m().mul_(new Scalar(b1)).add_(grad, new Scalar(1 - b1));
                p.v().mul_(new Scalar(b2)).addcmul_(grad, grad, new Scalar(1 - b2));
                Tensor denom = p.v().div(new Scalar(bias2)).sqrt().add_(new Scalar(options.eps()));
                if (p.elementLrScale() == null) {
                    if (p.decay() && options.weightDecay() > 0) {
                        p.value().mul_(new Scalar(1 - lr * options.weightDecay()));
                    }
                    p.value().addcdiv_(p.m(), denom, new Scalar(-lr / bias1));
                } else {
                    // per element: W ← W − lr·s ⊙ (λW + m̂ / (√v̂ + ε)), the same update with the rate lr·s of each element
                    Tensor update = p.m().div(denom).div_(new Scalar(bias1));                       // like W
                    if (p.decay() && options.weightDecay() > 0) {
                        update.add_(p.value(), new Scalar(options.weightDecay()));
                    }
                    p.value().sub_(update.mul_(p.elementLrScale()).mul_(new Scalar(lr)));
                }
            }
        }
    }

    @Override
    public long stateBytes() {
        long n = 0;
        for (Parameter p : params) {
            n += (p.m().numel() + p.v().numel()) * p.m().element_size();
        }
        return n;
    }

    @Override
    public void close() {
        for (Parameter p : params) {
            p.m().releaseReference();
            p.v().releaseReference();
        }
    }
}
