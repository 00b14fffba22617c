package dev.scalpel.engine.model;

import dev.scalpel.engine.api.ScalpelException;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.global.torch;

/** The native side's settings and figures the app shows or sets, so that the app never touches libtorch itself. */
public final class NativeRuntime {
    private NativeRuntime() {}

    /** Threads libtorch uses for CPU tensor math. */
    public static int threads() {
        return torch.get_num_threads();
    }

    /** Sets the CPU threads for tensor math. */
    public static void setThreads(int threads) {
        if (threads < 1) {
            throw new ScalpelException("--threads must be at least 1, got " + threads + ".");
        }
        torch.set_num_threads(threads);
    }

    /** The process's resident memory in bytes (native tensors included), as JavaCPP measures it. */
    public static long residentBytes() {
        return Pointer.physicalBytes();
    }
}
