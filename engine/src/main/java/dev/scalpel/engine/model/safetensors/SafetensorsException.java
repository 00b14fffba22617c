package dev.scalpel.engine.model.safetensors;

import dev.scalpel.engine.api.ScalpelException;

/**
 * A safetensors file or checkpoint folder that cannot be read or written. The message names the file
 * (and the tensor, where one is involved), says what is wrong and what to do about it.
 */
public class SafetensorsException extends ScalpelException {
    private static final long serialVersionUID = 1L;

    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
