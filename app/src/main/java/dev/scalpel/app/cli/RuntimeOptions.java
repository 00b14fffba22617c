package dev.scalpel.app.cli;

import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.NativeRuntime;
import picocli.CommandLine.Option;

/** --device and --threads, shared by every command that computes. */
public final class RuntimeOptions {
    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEVICE",
            description = "cpu (default) or cuda[:N] (needs the -Pcuda build and an NVIDIA GPU).")
    String device;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads for tensor math (default: all cores).")
    Integer threads;

    /** Applies --threads and parses --device. */
    public ComputeDevice computeDevice() {
        if (threads != null) {
            NativeRuntime.setThreads(threads);
        }
        return ComputeDevice.parse(device);
    }
}
