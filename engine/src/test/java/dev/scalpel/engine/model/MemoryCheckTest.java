package dev.scalpel.engine.model;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.testing.Fixtures;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** A model that would not fit in memory is refused before anything is allocated, with both numbers. */
class MemoryCheckTest {
    @Test
    void theWeightsAreCountedAsFloat32WhateverTheyAreStoredIn() {
        // llama-f16-sharded: 139,584 parameters stored as F16 in 3 shards; in memory 4 bytes each
        assertEquals(139_584L * 4, MemoryCheck.weightBytes(Fixtures.model("llama-f16-sharded")));
    }

    @Test
    void tooLittleMemoryIsRefusedWithWhatItWouldNeed() {
        Path dir = Fixtures.model("llama-gqa");
        long needed = MemoryCheck.weightBytes(dir);
        var e = assertThrows(ScalpelException.class, () -> MemoryCheck.requireFits(dir, needed, OptionalLong.of(needed - 1)));
        assertTrue(e.getMessage().contains("need 0.5 MiB as float32 but only 0.5 MiB of memory is available"), e.getMessage());
        assertEquals("70.0 GiB", MemoryCheck.size(70L << 30));
        assertDoesNotThrow(() -> MemoryCheck.requireFits(dir, needed, OptionalLong.of(needed)));
        assertDoesNotThrow(() -> MemoryCheck.requireFits(dir, needed, OptionalLong.empty()), "unknown memory: not checked");
    }

    @Test
    void thisMachineReportsItsAvailableMemory() {
        OptionalLong available = MemoryCheck.availableCpuBytes();
        assertTrue(available.isEmpty() || available.getAsLong() > 0);
    }
}
