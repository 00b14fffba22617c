package dev.scalpel.engine.model;

import dev.scalpel.engine.api.ScalpelException;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.mkl.global.mkl_rt;
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

    /**
     * Makes the matrix products this thread starts run on one BLAS thread until the returned handle is closed (other
     * threads keep theirs). For one-token decoding steps, whose products are matrix × vector: handing each of them to
     * the thread pool costs more than it saves (measured on 2 cores: 3.5–3.8 instead of 5.9 ms per token of the
     * sample model). A no-op when the BLAS is not MKL's.
     */
    public static ThreadSetting singleThreadedBlas() {
        if (!MKL) {
            return () -> { };
        }
        int previous = mkl_rt.MKL_Set_Num_Threads_Local(1);
        return () -> mkl_rt.MKL_Set_Num_Threads_Local(previous);
    }

    /** A setting of the current thread that {@link #close()} undoes. */
    @FunctionalInterface
    public interface ThreadSetting extends AutoCloseable {
        @Override
        void close();
    }

    /** Whether libtorch's BLAS is MKL (the JVM flag {@code -Dorg.bytedeco.openblas.load=mkl_rt} that ./scalpel sets). */
    private static final boolean MKL = "mkl_rt".equals(System.getProperty("org.bytedeco.openblas.load"));

    /** The process's resident memory in bytes (native tensors included), as JavaCPP measures it. */
    public static long residentBytes() {
        return Pointer.physicalBytes();
    }
}
