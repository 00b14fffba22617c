package dev.scalpel.engine.model;

import dev.scalpel.engine.api.ScalpelException;
import java.util.Locale;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

/**
 * Where tensors live: {@code cpu} (the default) or {@code cuda[:index]} when the CUDA build ({@code -Pcuda}) is present.
 * Code never assumes CPU tensors: every tensor the engine makes is created on, or moved to, the model's device.
 */
public record ComputeDevice(String spec) {
    public static final ComputeDevice CPU = new ComputeDevice("cpu");

    /** Parses {@code cpu}, {@code cuda} or {@code cuda:N}, checking that CUDA is really there. */
    public static ComputeDevice parse(String text) {
        String spec = text == null ? "cpu" : text.trim().toLowerCase(Locale.ROOT);
        if (spec.equals("cpu")) {
            return CPU;
        }
        if (!spec.matches("cuda(:\\d+)?")) {
            throw new ScalpelException("Unknown device '" + text + "'; use cpu, cuda or cuda:N.");
        }
        if (!torch.cuda_is_available()) {
            throw new ScalpelException("Device '" + text + "' was asked for, but this build has no usable CUDA "
                    + "(no GPU, or libtorch without CUDA); build with ./mvnw -Pcuda on a machine with an NVIDIA GPU, or use --device cpu.");
        }
        return new ComputeDevice(spec);
    }

    /** The device a tensor lives on. */
    public static ComputeDevice of(org.bytedeco.pytorch.Tensor t) {
        return t.is_cuda() ? new ComputeDevice("cuda:" + t.device().index()) : CPU;
    }

    public boolean isCuda() {
        return spec.startsWith("cuda");
    }

    /** A new native {@link Device}; cheap, so callers make one where they need it. */
    public Device torchDevice() {
        return new Device(spec);
    }

    @Override
    public String toString() {
        return spec;
    }
}
